package dev.spanheap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code spanheap serve} through the tool's dispatcher: a bounded run on each allocator starts,
 * listens, stops by itself and reports nothing left on SpanHeap; a bad allocator name is a usage
 * error naming it.
 */
class ServeCommandTest {

    private static ToolRun run(String... args) {
        return ToolRun.of(args);
    }

    @Test
    void aBoundedRunOnSpanHeapReportsNothingLeft() {
        ToolRun outcome = run("serve", "--allocator", "spanheap", "--port", "0", "--seconds", "1");
        assertEquals(0, outcome.exitCode(), outcome.err());
        assertTrue(outcome.out().contains("with the spanheap allocator"), outcome.out());
        assertTrue(outcome.out().contains("used direct memory: 0 bytes"), outcome.out());
        assertTrue(outcome.out().contains("heap live objects: 0 "), outcome.out());
    }

    @Test
    void nettysOwnAllocatorsServeToo() {
        for (String allocator : new String[] {"adaptive", "pooled"}) {
            ToolRun outcome = run("serve", "--allocator", allocator, "--port", "0", "--seconds", "1");
            assertEquals(0, outcome.exitCode(), outcome.err());
            assertTrue(outcome.out().contains("with the " + allocator + " allocator"), outcome.out());
        }
    }

    @Test
    void anUnknownAllocatorIsAUsageError() {
        ToolRun outcome = run("serve", "--allocator", "jemalloc");
        assertEquals(2, outcome.exitCode());
        assertTrue(outcome.err().contains("--allocator must be spanheap, adaptive or pooled, was 'jemalloc'"), outcome.err());
        assertTrue(outcome.err().contains("Usage: spanheap serve"), outcome.err());
    }

    @Test
    void aPortOutOfRangeIsAUsageError() {
        ToolRun outcome = run("serve", "--port", "70000");
        assertEquals(2, outcome.exitCode());
        assertTrue(outcome.err().contains("--port"), outcome.err());
    }
}
