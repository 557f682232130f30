package dev.spanheap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The small JSON reader/writer reads what JMH writes and reads back what it writes itself. */
class JsonTest {

    @Test
    void readsJmhShapedResults() {
        String text = """
                [ { "benchmark" : "dev.spanheap.bench.X.y", "threads" : 1, "params" : { "size" : "64" },
                    "primaryMetric" : { "score" : 5.25, "scoreError" : NaN, "scoreUnit" : "ns/op",
                                        "rawData" : [ [ 5.0, 5.5 ] ] }, "secondaryMetrics" : { } } ]
                """;
        List<?> list = (List<?>) Json.parse(text);
        Map<?, ?> first = (Map<?, ?>) list.getFirst();
        Map<?, ?> primary = (Map<?, ?>) first.get("primaryMetric");
        assertEquals(5.25, primary.get("score"));
        assertTrue(((Double) primary.get("scoreError")).isNaN());
        assertEquals("64", ((Map<?, ?>) first.get("params")).get("size"));
    }

    @Test
    void writesWhatItReads() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("name", "quote \" backslash \\ newline \n");
        value.put("list", List.of(1.5, true, "x"));
        value.put("none", null);
        assertEquals(value, Json.parse(Json.write(value)));
    }

    @Test
    void syntaxErrorsNameTheOffset() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\" 1}"));
        assertTrue(e.getMessage().contains("offset 5"), e.getMessage());
    }
}
