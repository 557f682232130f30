package dev.spanheap.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The Jackson mapper the tool reads and writes its JSON with (JMH's result files, the memory log,
 * the environment file and {@code compare --json}), and the reading of a number that JMH may have
 * written as {@code NaN}.
 */
final class ToolJson {

    /** Compact output; reads the bare {@code NaN} some JMH versions write for a missing score error. */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private ToolJson() {
    }

    /** {@code value} (maps, lists, strings, numbers, booleans, null) as one line of JSON. */
    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The number in {@code node}: a JSON number, or a string holding one (JMH writes {@code "NaN"}
     * for a score error it could not compute); NaN if the node is missing, null or anything else.
     */
    static double number(JsonNode node) {
        if (node == null) {
            return Double.NaN;
        }
        if (node.isNumber()) {
            return node.doubleValue();
        }
        if (node.isTextual()) {
            try {
                return Double.parseDouble(node.textValue());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    /** {@code value}, or null if it is not finite (JSON has no NaN or infinity). */
    static Double finite(Double value) {
        return value == null || !Double.isFinite(value) ? null : value;
    }
}
