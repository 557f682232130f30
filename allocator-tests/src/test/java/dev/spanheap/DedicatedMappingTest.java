package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Objects larger than an arena get a mapping of their own: while one lives, the statistics count
 * its whole mapping (rounded up to OS pages) as held, and the kernel's own list of mappings
 * ({@code /proc/self/maps}) shows it; after its free, or the heap's close, both are back where
 * they were. At the limit, a mapping that does not fit first makes the heap release its free pages.
 * (PIT found these paths unchecked: mutants that skipped the unmap, the un-hold or the release
 * before the retry survived the suite.)
 */
class DedicatedMappingTest {

    private static final long MIB = 1L << 20;
    /** One byte past an arena (64 MiB) and a MiB: a dedicated mapping of 65 MiB plus one OS page. */
    private static final long SIZE = 65 * MIB + 1;
    private static final long MAPPED = (SIZE + OsMemory.OS_PAGE_SIZE - 1) & -OsMemory.OS_PAGE_SIZE;
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static SpanHeapConfig.Builder config(String name) {
        return SpanHeapConfig.builder().name(name).scavengerEnabled(false);
    }

    @Test
    void aDedicatedObjectIsCountedWhileLiveAndUnmappedByItsFree() {
        try (SpanHeap heap = SpanHeap.create(config("dedicated-free").build())) {
            HeapStats before = heap.stats();
            long address = heap.allocateAddress(SIZE);
            ALL.set(ValueLayout.JAVA_BYTE, address + SIZE - 1, (byte) 7);

            HeapStats live = heap.stats();
            assertEquals(before.dedicatedObjects() + 1, live.dedicatedObjects(), () -> "live: " + live);
            assertEquals(before.dedicatedBytes() + MAPPED, live.dedicatedBytes(), () -> "live: " + live);
            assertEquals(before.heldBytes() + MAPPED, live.heldBytes(), () -> "live: " + live);
            assertEquals(before.reservedBytes() + MAPPED, live.reservedBytes(), () -> "live: " + live);
            assertTrue(mapped(address, MAPPED), () -> "the kernel does not map [" + Errors.hex(address) + ", +" + MAPPED + ")");
            heap.verifyInvariants();

            heap.freeAddress(address);
            HeapStats after = heap.stats();
            assertEquals(before.dedicatedObjects(), after.dedicatedObjects(), () -> "after the free: " + after);
            assertEquals(before.dedicatedBytes(), after.dedicatedBytes(), () -> "after the free: " + after);
            assertEquals(before.heldBytes(), after.heldBytes(), () -> "after the free: " + after);
            assertEquals(before.totalFrees() + 1, after.totalFrees(), () -> "after the free: " + after);
            assertFalse(overlapsAMapping(address, MAPPED), () -> "[" + Errors.hex(address) + ", +" + MAPPED + ") is still mapped");
            heap.verifyInvariants();
        }
    }

    /** A freed dedicated object's segment ends with its mapping: using it afterwards throws instead of touching unmapped memory. */
    @Test
    void freeEndsTheSegmentOfADedicatedObject() {
        try (SpanHeap heap = SpanHeap.create(config("dedicated-segment").build())) {
            MemorySegment segment = heap.allocate(SIZE);
            segment.set(ValueLayout.JAVA_BYTE, SIZE - 1, (byte) 7);
            heap.free(segment);
            assertFalse(segment.scope().isAlive(), "the segment of a freed dedicated object is still alive");
            assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, SIZE - 1));
            heap.verifyInvariants();
        }
    }

    @Test
    void closeUnmapsLiveDedicatedObjectsAndEndsTheirSegments() {
        SpanHeap heap = SpanHeap.create(config("dedicated-close").build());
        MemorySegment segment = heap.allocate(SIZE);
        long address = segment.address();
        assertTrue(mapped(address, MAPPED), () -> "the kernel does not map [" + Errors.hex(address) + ", +" + MAPPED + ")");
        heap.close();
        assertFalse(segment.scope().isAlive(), "the segment of a dedicated object outlived its heap");
        assertFalse(overlapsAMapping(address, MAPPED), () -> "[" + Errors.hex(address) + ", +" + MAPPED + ") is still mapped after close");
    }

    @Test
    void aDedicatedObjectPastTheLimitMakesTheHeapReleaseItsFreePagesFirst() {
        try (SpanHeap heap = SpanHeap.create(config("dedicated-limit").maxHeapBytes(100 * MIB).build())) {
            List<Long> large = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                long address = heap.allocateAddress(MIB);
                ALL.set(ValueLayout.JAVA_BYTE, address, (byte) 1);
                large.add(address);
            }
            large.forEach(heap::freeAddress);
            HeapStats freed = heap.stats();
            // The last one freed may sit in this thread's page cache: held as well.
            assertTrue(freed.retainedFreeBytes() + freed.pageCacheBytes() >= 60 * MIB, () -> "the freed pages should still be held: " + freed);
            assertTrue(freed.heldBytes() + MAPPED > 100 * MIB, () -> "the test needs the mapping not to fit at once: " + freed);

            long address;
            try {
                address = heap.allocateAddress(SIZE);
            } catch (OutOfMemoryError refused) {
                // Rethrown as an assertion: an escaping OutOfMemoryError would end the whole test JVM.
                throw new AssertionError("the heap refused the mapping instead of releasing its free pages first", refused);
            }
            HeapStats after = heap.stats();
            assertTrue(after.releasedBytesTotal() - freed.releasedBytesTotal() >= 60 * MIB,
                    () -> "the free pages were not released before the mapping: " + after);
            assertTrue(after.heldBytes() <= 100 * MIB, () -> "held past the limit: " + after);
            heap.freeAddress(address);
            heap.verifyInvariants();
        }
    }

    /** Whether every byte of {@code [address, address + length)} is in some mapping of this process. */
    private static boolean mapped(long address, long length) {
        long covered = address;
        for (long[] range : processMappings()) {
            if (range[0] <= covered && range[1] > covered) {
                covered = range[1];
            }
        }
        return covered >= address + length;
    }

    private static boolean overlapsAMapping(long address, long length) {
        return processMappings().stream().anyMatch(range -> range[0] < address + length && range[1] > address);
    }

    /** The process's mappings from /proc/self/maps, in address order, as {start, end}. */
    private static List<long[]> processMappings() {
        try {
            List<long[]> ranges = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String span = line.substring(0, line.indexOf(' '));
                int dash = span.indexOf('-');
                ranges.add(new long[] {Long.parseUnsignedLong(span.substring(0, dash), 16),
                        Long.parseUnsignedLong(span.substring(dash + 1), 16)});
            }
            return ranges;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
