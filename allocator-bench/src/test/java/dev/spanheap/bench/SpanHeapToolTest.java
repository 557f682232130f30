package dev.spanheap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command-line tool's contract: help succeeds, bad arguments fail with a usage message, a
 * short stress run verifies, and {@code compare --json} prints JSON a program can read. Runs the
 * tool in-process through {@link SpanHeapTool#run}, so exit codes are checked without exiting.
 */
class SpanHeapToolTest {

    @BeforeAll
    static void allowConcurrentJmh() {
        // Other JMH runs may hold JMH's machine-wide lock; this test's run is a smoke run, not a measurement.
        System.setProperty("jmh.ignoreLock", "true");
    }

    private static ToolRun run(String... args) {
        return ToolRun.of(args);
    }

    @Test
    void helpOnTheToolAndEveryCommandSucceeds() {
        ToolRun top = run("--help");
        assertEquals(0, top.exitCode());
        for (String command : SpanHeapTool.COMMANDS.keySet()) {
            assertTrue(top.out().contains(command), "top-level help lists " + command);
            ToolRun help = run(command, "--help");
            assertEquals(0, help.exitCode(), command + " --help");
            assertTrue(help.out().startsWith("Usage: spanheap " + command), command + " --help prints its usage: " + help.out());
        }
    }

    @Test
    void badArgumentsPrintUsageAndExitNonZero() {
        List<String[]> bad = List.of(
                new String[] {},
                new String[] {"frobnicate"},
                new String[] {"compare", "--no-such-option"},
                new String[] {"stress", "--duration"},
                new String[] {"stress", "--duration", "soon"},
                new String[] {"stress", "--threads", "0"},
                new String[] {"heapmap", "--keep", "2"},
                new String[] {"bench", "--regex", "NoBenchmarkIsCalledThis"},
                new String[] {"bench", "--allocator", "dlmalloc"},
                new String[] {"stress", "stray"});
        for (String[] args : bad) {
            ToolRun outcome = run(args);
            assertEquals(2, outcome.exitCode(), "exit code of " + String.join(" ", args));
            assertTrue(outcome.err().contains("Usage: spanheap"), "usage printed for " + String.join(" ", args) + ": " + outcome.err());
        }
    }

    @Test
    void shortStressRunVerifiesAndExitsZero() {
        ToolRun outcome = run("stress", "--duration", "2s", "--threads", "2", "--seed", "42");
        assertEquals(0, outcome.exitCode(), outcome.out() + outcome.err());
        assertTrue(outcome.out().contains("OK: every block verified"), outcome.out());
        assertTrue(outcome.out().contains("seed 42"), "the seed is printed for replay");
    }

    @Test
    void heapMapOfAFragmentedHeapIsWrittenAsSvg(@TempDir Path directory) throws Exception {
        Path svg = directory.resolve("map.svg");
        ToolRun outcome = run("heapmap", "--objects", "20000", "--out", svg.toString());
        assertEquals(0, outcome.exitCode(), outcome.out() + outcome.err());
        String text = Files.readString(svg);
        assertTrue(text.contains("<svg") && text.trim().endsWith("</svg>"), "an SVG document: " + text.substring(0, Math.min(200, text.length())));
        assertTrue(outcome.out().contains("fragmentation"), outcome.out());
    }

    @Test
    void compareJsonParsesAndHasTheRawPathAndMalloc() throws Exception {
        ToolRun outcome = run("compare", "--quick", "--json");
        assertEquals(0, outcome.exitCode(), outcome.err());
        // A plain ObjectMapper: the output must be strict JSON (no NaN), readable by any program.
        JsonNode root = new ObjectMapper().readTree(outcome.out().trim());
        assertTrue(root.isObject(), "a JSON object: " + outcome.out());
        assertTrue(root.path("note").isTextual() && !root.path("note").asText().isEmpty(), "a note: " + root);
        assertTrue(root.path("environment").path("jdk").isTextual(), "the environment names the JDK: " + root.path("environment"));
        JsonNode pairs = root.path("allocFree");
        assertTrue(pairs.isArray() && !pairs.isEmpty(), "allocFree is a non-empty array: " + root);
        boolean sawSpanHeap = false;
        boolean sawMalloc = false;
        for (JsonNode pair : pairs) {
            assertTrue(pair.path("nsPerOp").isNumber(), "nsPerOp is a number: " + pair);
            double ns = pair.path("nsPerOp").asDouble();
            assertTrue(ns > 0 && ns < 1e6, "a sane ns/op: " + pair);
            assertEquals(64, pair.path("size").asLong(), "--quick measures 64 B only: " + pair);
            assertTrue(pair.path("ratioToMalloc").isNumber(), "malloc was measured, so every pair has a ratio: " + pair);
            String allocator = pair.path("allocator").asText();
            sawSpanHeap |= allocator.equals("spanheapAddress");
            sawMalloc |= allocator.equals("malloc");
            if (allocator.equals("malloc")) {
                assertEquals(1.0, pair.path("ratioToMalloc").asDouble(), 1e-9, "malloc's ratio to itself");
            }
        }
        assertTrue(sawSpanHeap && sawMalloc, "both measured: " + pairs);
        assertTrue(root.path("larson").isArray() && root.path("xmallocTest").isArray(), "the workload lists are there: " + root);
        assertTrue(root.path("skipped").isObject(), "skipped baselines are an object: " + root.path("skipped"));
        assertFalse(outcome.out().contains("WARNING"), "no warnings on standard output");
    }
}
