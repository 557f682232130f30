package dev.spanheap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code spanheap serve} through the tool's dispatcher: a bounded run on each allocator starts,
 * listens, stops by itself and reports nothing left on SpanHeap; a bad allocator name is a usage
 * error naming it.
 */
class ServeCommandTest {

    private record Outcome(int exitCode, String out, String err) {
    }

    private static Outcome run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = SpanHeapTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aBoundedRunOnSpanHeapReportsNothingLeft() {
        Outcome outcome = run("serve", "--allocator", "spanheap", "--port", "0", "--seconds", "1");
        assertEquals(0, outcome.exitCode(), outcome.err());
        assertTrue(outcome.out().contains("with the spanheap allocator"), outcome.out());
        assertTrue(outcome.out().contains("used direct memory: 0 bytes"), outcome.out());
        assertTrue(outcome.out().contains("heap live objects: 0 "), outcome.out());
    }

    @Test
    void nettysOwnAllocatorsServeToo() {
        for (String allocator : new String[] {"adaptive", "pooled"}) {
            Outcome outcome = run("serve", "--allocator", allocator, "--port", "0", "--seconds", "1");
            assertEquals(0, outcome.exitCode(), outcome.err());
            assertTrue(outcome.out().contains("with the " + allocator + " allocator"), outcome.out());
        }
    }

    @Test
    void anUnknownAllocatorIsAUsageError() {
        Outcome outcome = run("serve", "--allocator", "jemalloc");
        assertEquals(2, outcome.exitCode());
        assertTrue(outcome.err().contains("--allocator must be spanheap, adaptive or pooled, was 'jemalloc'"), outcome.err());
        assertTrue(outcome.err().contains("Usage: spanheap serve"), outcome.err());
    }

    @Test
    void aPortOutOfRangeIsAUsageError() {
        Outcome outcome = run("serve", "--port", "70000");
        assertEquals(2, outcome.exitCode());
        assertTrue(outcome.err().contains("--port"), outcome.err());
    }
}
