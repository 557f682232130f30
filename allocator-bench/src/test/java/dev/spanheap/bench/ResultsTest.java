package dev.spanheap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A results directory as the suite writes it is read back through Jackson: JMH rows, the memory log, the environment. */
class ResultsTest {

    private static final String JMH = """
            [ { "jmhVersion" : "1.37", "benchmark" : "dev.spanheap.bench.AllocFreePairBenchmark.malloc", "mode" : "avgt",
                "threads" : 1, "forks" : 1, "params" : { "size" : "64" },
                "primaryMetric" : { "score" : 18.5, "scoreError" : NaN, "scoreUnit" : "ns/op", "rawData" : [ [ 18.0, 19.0 ] ] },
                "secondaryMetrics" : { } },
              { "jmhVersion" : "1.37", "benchmark" : "dev.spanheap.bench.LarsonBenchmark.twoThreads", "mode" : "thrpt",
                "threads" : 2, "forks" : 1, "params" : { "allocator" : "spanheap" },
                "primaryMetric" : { "score" : 65.1, "scoreError" : "NaN", "scoreUnit" : "ops/us", "rawData" : [ [ 65.1 ] ] },
                "secondaryMetrics" : { "gc.alloc.rate.norm" : { "score" : 0.25, "scoreError" : 0.01, "scoreUnit" : "B/op" } } } ]
            """;

    @Test
    void readsJmhRowsMemoryAndEnvironment(@TempDir Path directory) throws IOException {
        Files.writeString(directory.resolve("jmh-main.json"), JMH);
        Files.writeString(directory.resolve("memory.jsonl"), """
                {"workload":"larson","allocator":"spanheap","threads":2,"startRssBytes":1000,"peakRssBytes":5000,"peakIsWorkloadOnly":true,"finalRssBytes":4000,"liveBytesAtEnd":300,"heldBytesBeforeFree":700,"heldBytesAfterFree":-1}

                """);
        Files.writeString(directory.resolve("environment.json"),
                "{\"jdk\":\"Test JDK 25\",\"cpus\":2,\"skipped\":{\"mimalloc\":\"skipped (not installed)\"}}\n");

        Results results = Results.load(directory);

        assertEquals(2, results.rows.size());
        Results.Row malloc = results.find("AllocFreePairBenchmark.malloc", Map.of("size", "64")).orElseThrow();
        assertEquals(18.5, malloc.score());
        assertTrue(Double.isNaN(malloc.error()), "a bare NaN error reads as NaN");
        assertEquals("ns/op", malloc.unit());
        assertEquals(1, malloc.threads());
        assertEquals("main", malloc.source());
        Results.Row larson = results.find("LarsonBenchmark.twoThreads", Map.of("allocator", "spanheap")).orElseThrow();
        assertEquals(2, larson.threads());
        assertTrue(Double.isNaN(larson.error()), "a quoted \"NaN\" error reads as NaN");
        assertEquals(0.25, larson.secondary().get("gc.alloc.rate.norm"));

        Results.Memory memory = results.memory("larson", "spanheap", 2).orElseThrow();
        assertEquals(4000, memory.peakGrowth());
        assertEquals(-1, memory.heldAfterFree());
        assertEquals(List.of(memory), results.memory, "the blank line of the log is skipped");

        assertEquals("Test JDK 25", results.environment.get("jdk"));
        assertEquals("2", ResultRenderer.whole(results.environment.get("cpus")));
        assertEquals(Map.of("mimalloc", "skipped (not installed)"), results.skipped());
    }

    @Test
    void aFileThatIsNotAResultArrayIsAnError(@TempDir Path directory) throws IOException {
        Files.writeString(directory.resolve("jmh-main.json"), "{\"benchmark\":\"x\"}");
        IOException e = assertThrows(IOException.class, () -> Results.load(directory));
        assertTrue(e.getMessage().contains("jmh-main.json"), e.getMessage());
    }

    @Test
    void writtenJsonIsCompactAndHasNoNaN() {
        Map<String, Object> value = new java.util.LinkedHashMap<>();
        value.put("name", "quote \" backslash \\ newline \n");
        value.put("score", ToolJson.finite(Double.NaN));
        value.put("list", List.of(1.5, true));
        assertEquals("{\"name\":\"quote \\\" backslash \\\\ newline \\n\",\"score\":null,\"list\":[1.5,true]}", ToolJson.write(value));
    }
}
