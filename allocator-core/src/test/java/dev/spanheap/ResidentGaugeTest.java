package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The heap's resident memory as the OS counts it ({@link ResidentGauge}): the parse of smaps, and the real figure on this machine. */
class ResidentGaugeTest {

    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    /** Huge pages are counted in the mappings the heap's ranges cover, together when the kernel merged two of them. */
    @Test
    void smapsCountsTheMappingsTheRangesCover() throws IOException {
        Path smaps = dir.resolve("smaps");
        Files.writeString(smaps, """
                7f0000000000-7f0004000000 rw-p 00000000 00:00 0
                Size:              65536 kB
                AnonHugePages:      4096 kB
                7f0004000000-7f0008000000 ---p 00000000 00:00 0
                AnonHugePages:         0 kB
                7f0ff0000000-7f1000200000 rw-p 00000000 00:00 0 \s
                AnonHugePages:      2048 kB
                VmFlags: rd wr mr mw me ac hg
                7f2000000000-7f2000400000 rw-p 00000000 00:00 0
                AnonHugePages:      4096 kB
                """);
        long[] starts = {0x7f0000000000L};
        long[] ends = {0x7f0010000000L};
        assertEquals(4096L << 10, ResidentGauge.anonHugePageBytes(smaps, starts, ends));
        // A dedicated mapping [7f0ff0000000, 7f1000000000) merged with the range that starts where it ends.
        assertEquals(6144L << 10, ResidentGauge.anonHugePageBytes(smaps, new long[] {0x7f0000000000L, 0x7f1000000000L, 0x7f0ff0000000L},
                new long[] {0x7f0010000000L, 0x7f1000200000L, 0x7f1000000000L}));
        // Merged with memory that is not the heap's: not counted.
        assertEquals(4096L << 10, ResidentGauge.anonHugePageBytes(smaps, new long[] {0x7f0000000000L, 0x7f2000000000L},
                new long[] {0x7f0010000000L, 0x7f2000200000L}));
        assertEquals(-1, ResidentGauge.anonHugePageBytes(dir.resolve("missing"), starts, ends));
    }

    /**
     * On this machine: a block written page by page is resident; one allocated and never written
     * is held but not resident; a dedicated mapping written counts too (the kernel places it next
     * to the heap's range and may merge the two mappings, which mincore does not mind); after the
     * frees and a release the heap's resident bytes fall back by what was released.
     */
    @Test
    void residentBytesFollowWhatIsWrittenAndReleased() {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(4 * HeapArena.BYTES)
                .hugePages(false).scavengerEnabled(false).pageCacheBytes(0).build())) {
            long before = heap.residentBytes();
            assertTrue(before >= 0 && before < MIB, "a new heap has (almost) nothing resident: " + before);

            MemorySegment written = heap.allocateUninitialized(16 * MIB, 8);
            for (long at = 0; at < written.byteSize(); at += OsMemory.OS_PAGE_SIZE) {
                written.set(ValueLayout.JAVA_BYTE, at, (byte) 1);
            }
            MemorySegment untouched = heap.allocateUninitialized(16 * MIB, 8);
            MemorySegment dedicated = heap.allocateUninitialized(HeapArena.BYTES + MIB, 8);
            dedicated.fill((byte) 2);
            long resident = heap.residentBytes();
            assertTrue(resident >= 16 * MIB + HeapArena.BYTES + MIB, "written pages resident: " + resident);
            assertTrue(resident < 32 * MIB + HeapArena.BYTES + MIB, "the untouched block is not resident: " + resident);
            HeapStats stats = heap.stats();
            assertTrue(stats.residentEstimateBytes() >= 32 * MIB + HeapArena.BYTES, "held counts both blocks: " + stats);
            assertTrue(heap.report().contains("resident, as the OS counts it (mincore over the heap's mappings): "), heap.report());

            heap.free(written);
            heap.free(untouched);
            heap.free(dedicated);
            heap.releaseFreeMemory();
            long after = heap.residentBytes();
            assertTrue(after < 2 * MIB, "released, written pages leave the resident set: " + after);
            heap.report(); // reads the gauge anew
            assertEquals(after, heap.stats().machine().residentBytes(), "stats show the report's fresh reading");
        }
    }
}
