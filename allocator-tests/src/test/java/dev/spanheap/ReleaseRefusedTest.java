package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The kernel refusing to release free pages: madvise(MADV_DONTNEED) fails with EINVAL on a range
 * that holds a page locked with mlock(2). The tests lock one OS page inside a freed, dirty run of
 * the heap with a real mlock call (through FFM), so the scavenger's and {@code releaseFreeMemory}'s
 * real madvise calls fail in the kernel: no hook, no mock. What must hold: the refusal is
 * reported once per heap (a WARNING on logger {@code dev.spanheap}), counted in
 * {@link HeapStats#releaseFailures()} every time, the pages stay free and counted as held, the
 * heap stays consistent and usable, the scavenger thread keeps running, and the release succeeds
 * once the lock is gone.
 */
class ReleaseRefusedTest {

    private static final long BLOCK_BYTES = 1L << 20;
    private static final long OS_PAGE = 4096;
    private static final MethodHandle MLOCK = libc("mlock");
    private static final MethodHandle MUNLOCK = libc("munlock");

    private static MethodHandle libc(String name) {
        Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    }

    private static int call(MethodHandle function, long address, long bytes) {
        try {
            return (int) function.invokeExact(address, bytes);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** A freed 1 MiB block whose pages are dirty (written), free, and held. */
    private static long freedDirtyBlock(SpanHeap heap) {
        MemorySegment block = heap.allocate(BLOCK_BYTES);
        block.fill((byte) 0x5A);
        long address = block.address();
        heap.free(block);
        return address;
    }

    /** Locks one OS page of {@code address}'s block, or skips the test if this process may not lock memory. */
    private static long lockOnePageOf(long address) {
        long locked = address + BLOCK_BYTES / 2;
        int rc = call(MLOCK, locked, OS_PAGE);
        Assumptions.assumeTrue(rc == 0, "mlock(2) of one page failed (RLIMIT_MEMLOCK too low?): cannot make madvise refuse");
        return locked;
    }

    /** Collects the WARNINGs logged for {@code heapName} while it is installed. */
    private static final class Warnings extends Handler implements AutoCloseable {
        private final String heapName;
        private final Logger logger = Logger.getLogger("dev.spanheap");
        final List<LogRecord> records = new CopyOnWriteArrayList<>();

        Warnings(String heapName) {
            this.heapName = heapName;
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord record) {
            if (record.getMessage() != null && record.getMessage().contains(heapName)) {
                records.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    @Test
    void aRefusedReleaseKeepsThePagesHeldIsCountedEveryTimeAndLoggedOnce() {
        String name = "release-refused";
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name(name).addressSpaceBytes(1L << 30)
                .scavengerEnabled(false).scavengerDelay(Duration.ZERO).build());
                Warnings warnings = new Warnings(name)) {
            long address = freedDirtyBlock(heap);
            HeapProbe.flushCaches(heap);
            HeapStats before = heap.stats();
            assertTrue(before.retainedFreeBytes() >= BLOCK_BYTES, "the freed block is dirty and held: " + before);
            long locked = lockOnePageOf(address);
            try {
                assertEquals(0, HeapProbe.scavengeOnce(heap), "a pass whose madvise is refused releases nothing");
                HeapStats afterPass = heap.stats();
                assertEquals(1, afterPass.releaseFailures(), "the scavenger's refused release is counted");
                assertEquals(before.heldBytes(), afterPass.heldBytes(), "the refused pages still count as held");
                assertEquals(before.retainedFreeBytes(), afterPass.retainedFreeBytes(), "and as free and dirty");
                HeapProbe.verify(heap);

                assertEquals(0, HeapProbe.scavengeOnce(heap));
                assertEquals(0, heap.releaseFreeMemory(), "the synchronous release is refused too");
                HeapStats afterThree = heap.stats();
                assertEquals(3, afterThree.releaseFailures(), "every refusal is counted (two passes, one releaseFreeMemory)");
                assertEquals(before.heldBytes(), afterThree.heldBytes());
                assertEquals(1, warnings.records.size(), "one warning per heap, not one per refusal: " + warnings.records);
                LogRecord warning = warnings.records.getFirst();
                assertEquals(java.util.logging.Level.WARNING, warning.getLevel());
                assertTrue(warning.getThrown() != null && warning.getThrown().getMessage().contains("madvise")
                        && warning.getThrown().getMessage().contains("errno 22"),
                        "the warning carries madvise's failure and errno: " + warning.getThrown());
                HeapProbe.verify(heap);

                // The heap goes on: the same pages serve a new block, cleared (they are dirty).
                MemorySegment again = heap.allocate(BLOCK_BYTES);
                for (long offset = 0; offset < BLOCK_BYTES; offset += OS_PAGE / 2) {
                    assertEquals(0, again.get(ValueLayout.JAVA_BYTE, offset), "reused memory is zero at " + offset);
                }
                again.fill((byte) 1);
                heap.free(again);
                HeapProbe.verify(heap);
            } finally {
                assertEquals(0, call(MUNLOCK, locked, OS_PAGE));
            }
            long released = heap.releaseFreeMemory();
            HeapStats after = heap.stats();
            assertTrue(released >= BLOCK_BYTES, "once unlocked, the pages are released: " + released);
            assertEquals(0, after.retainedFreeBytes());
            assertEquals(before.heldBytes() - released, after.heldBytes());
            assertEquals(3, after.releaseFailures(), "a successful release counts no failure");
            assertEquals(1, warnings.records.size());
            HeapProbe.verify(heap);
        }
    }

    @Test
    void theScavengerThreadKeepsRunningAfterARefusalAndReleasesOnceItCan() throws InterruptedException {
        String name = "release-refused-background";
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name(name).addressSpaceBytes(1L << 30)
                .scavengerDelay(Duration.ZERO).build());
                Warnings warnings = new Warnings(name)) {
            long address = freedDirtyBlock(heap);
            long locked = lockOnePageOf(address);
            try {
                HeapStats refused = awaitStats(heap, s -> s.releaseFailures() >= 2,
                        "two background passes refused (the thread survived the first)");
                assertTrue(refused.retainedFreeBytes() >= BLOCK_BYTES, "the refused pages stay held: " + refused);
                assertEquals(1, warnings.records.size(), "logged once: " + warnings.records);
            } finally {
                assertEquals(0, call(MUNLOCK, locked, OS_PAGE));
            }
            HeapStats released = awaitStats(heap, s -> s.retainedFreeBytes() == 0, "released by the background thread once unlocked");
            assertTrue(released.releasedBytesTotal() >= BLOCK_BYTES, "released: " + released);
            assertEquals(1, warnings.records.size());
            HeapProbe.verify(heap);
        }
    }

    private static HeapStats awaitStats(SpanHeap heap, java.util.function.Predicate<HeapStats> condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        HeapStats stats = heap.stats();
        while (!condition.test(stats)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what + "; last stats " + stats);
            }
            Thread.sleep(20);
            stats = heap.stats();
        }
        return stats;
    }
}
