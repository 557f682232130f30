package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transparent huge pages: which parts of a free run the scavenger releases (whole 2 MiB regions,
 * parts of regions that are not nearly full), the THP mode and smaps readers on fake files, and on
 * this machine's kernel whether an advised heap really gets huge pages and that a heap starts
 * asking, every arena included, once it holds {@code hugePagesFrom} bytes.
 */
class HugePagesTest {

    private static final int REGION = HugePageRelease.REGION_PAGES;

    @TempDir
    Path dir;

    private static HeapArena dirtyArena() {
        HeapArena arena = new HeapArena(0, 0, 0, null);
        arena.setDirty(0, HeapArena.PAGES, true);
        return arena;
    }

    @Test
    void wholeRegionsAndPartsThatAreNotNearlyFull() {
        HeapArena arena = dirtyArena();
        // Pages 250..780: 6 pages of region 0 (under 1/32 of it: kept), regions 1 and 2 whole,
        // 12 pages of region 3 (at least 1/32: released), all in one call.
        assertArrayEquals(new int[] {REGION, 2 * REGION + 12}, HugePageRelease.pieces(arena, REGION - 6, 2 * REGION + 18, true));
        // A run inside one region, shorter than 1/32 of it: nothing.
        assertArrayEquals(new int[0], HugePageRelease.pieces(arena, 10, HugePageRelease.MIN_PARTIAL_PAGES - 1, true));
        // Exactly 1/32: released.
        assertArrayEquals(new int[] {10, HugePageRelease.MIN_PARTIAL_PAGES},
                HugePageRelease.pieces(arena, 10, HugePageRelease.MIN_PARTIAL_PAGES, true));
        // Without huge pages to keep: the whole run.
        assertArrayEquals(new int[] {REGION - 6, 2 * REGION + 18}, HugePageRelease.pieces(arena, REGION - 6, 2 * REGION + 18, false));
    }

    @Test
    void cleanRegionsAreLeftOutAndGapsSplitThePieces() {
        HeapArena arena = new HeapArena(0, 0, 0, null);
        arena.setDirty(0, REGION, true);            // region 0 dirty
        arena.setDirty(2 * REGION, REGION, true);   // region 2 dirty, region 1 clean
        assertArrayEquals(new int[] {0, REGION, 2 * REGION, REGION}, HugePageRelease.pieces(arena, 0, 3 * REGION, true));
        assertArrayEquals(new int[0], HugePageRelease.pieces(arena, REGION, REGION, true));
        assertArrayEquals(new int[0], HugePageRelease.pieces(arena, REGION, REGION, false));
    }

    /**
     * A scavenger pass on a page heap: a free run made of 4 pages of a region otherwise in use and
     * a whole region releases the whole region and keeps the 4 pages, until huge pages are not kept.
     */
    @Test
    void scavengerKeepsNearlyFullRegionsWhole() {
        AddressRange range = new AddressRange(SpanHeapConfig.builder().addressSpaceBytes(HeapArena.BYTES).build());
        try {
            PageHeap heap = new PageHeap(0, range, false);
            range.setPageHeaps(new PageHeap[] {heap});
            Span a = heap.allocateLarge((long) (REGION - 4) << SizeClasses.PAGE_SHIFT, REGION - 4, 1);
            Span b = heap.allocateLarge(4L << SizeClasses.PAGE_SHIFT, 4, 1);
            Span c = heap.allocateLarge((long) REGION << SizeClasses.PAGE_SHIFT, REGION, 1);
            assertEquals(REGION - 4, b.firstPage);
            assertTrue(heap.freeLarge(range.arenaAt(b.start), b, b.start));
            assertTrue(heap.freeLarge(range.arenaAt(c.start), c, c.start));
            assertEquals(TransparentHugePages.HUGE_PAGE_BYTES, heap.releaser.scavenge(0, 0, true));
            assertEquals(0, heap.releaser.scavenge(0, 0, true), "the 4 pages of the nearly full region stay");
            assertEquals(4L << SizeClasses.PAGE_SHIFT, heap.snapshot().dirtyFreePages() << SizeClasses.PAGE_SHIFT);
            assertNull(heap.verify());
            assertEquals(4L << SizeClasses.PAGE_SHIFT, heap.releaser.scavenge(0, 0, false));
            assertEquals(0, heap.snapshot().dirtyFreePages());
            assertNull(heap.verify());
            assertTrue(heap.freeLarge(range.arenaAt(a.start), a, a.start));
        } finally {
            range.unmapAll();
        }
    }

    @Test
    void scavengerWorksHarderNearTheLimit() {
        long delay = 1_000_000_000L;
        assertEquals(delay, Scavenger.idleNearLimit(delay, 50, 100));
        assertEquals(delay, Scavenger.idleNearLimit(delay, 80, 100));
        assertEquals(delay / 3, Scavenger.idleNearLimit(delay, 90, 100), delay / 100);
        assertEquals(0, Scavenger.idleNearLimit(delay, 95, 100));
    }

    @Test
    void modeIsTheBracketedWord() throws IOException {
        Path enabled = dir.resolve("enabled");
        Files.writeString(enabled, "always [madvise] never\n");
        assertEquals(TransparentHugePages.Mode.MADVISE, TransparentHugePages.readMode(enabled));
        Files.writeString(enabled, "[always] madvise never\n");
        assertEquals(TransparentHugePages.Mode.ALWAYS, TransparentHugePages.readMode(enabled));
        Files.writeString(enabled, "always madvise [never]\n");
        assertEquals(TransparentHugePages.Mode.NEVER, TransparentHugePages.readMode(enabled));
        assertEquals(TransparentHugePages.Mode.UNAVAILABLE, TransparentHugePages.readMode(dir.resolve("missing")));
    }

    /** On this kernel: an advised heap whose memory is written gets huge pages (where the mode honours advice); one not advised does not in madvise mode. */
    @Test
    void thisMachineBacksAnAdvisedHeapWithHugePages() {
        TransparentHugePages.Mode mode = TransparentHugePages.mode();
        System.out.println("THP mode of this machine: " + mode.label);
        for (boolean advised : new boolean[] {true, false}) {
            try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(2 * HeapArena.BYTES)
                    .hugePages(advised).hugePagesFrom(0).scavengerEnabled(false).build())) {
                MemorySegment block = heap.allocate(16L << 20, TransparentHugePages.HUGE_PAGE_BYTES);
                block.fill((byte) 7);
                long huge = heap.residentGauge().read(true).hugePageBytes();
                MachineStats machine = heap.stats().machine();
                assertEquals(mode.label, machine.transparentHugePages());
                assertEquals(advised && mode.honoursAdvice(), machine.hugePagesAdvised());
                System.out.println("hugePages(" + advised + "): " + (huge >> 20) + " MiB of 16 MiB written backed by huge pages");
                if (advised && mode.honoursAdvice()) {
                    assertTrue(huge > 0, "an advised 16 MiB block, written, has no huge page");
                } else if (mode == TransparentHugePages.Mode.MADVISE) {
                    assertEquals(0, huge);
                }
                assertTrue(heap.report().contains("transparent huge pages: mode " + mode.label));
                heap.free(block);
            }
        }
    }

    /**
     * Below {@code hugePagesFrom} held bytes the heap does not ask for huge pages; the allocation
     * that reaches it exactly advises every arena, the one mapped before included, so memory
     * written in that first arena from then on gets huge pages (in madvise mode; other modes skip
     * that check). Under a limit, so that the compare-and-set path of the held count is the one
     * that decides (the hammer test below takes the other).
     */
    @Test
    void hugePagesStartOnceTheHeapHoldsTheThreshold() {
        TransparentHugePages.Mode mode = TransparentHugePages.mode();
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(2 * HeapArena.BYTES)
                .maxHeapBytes(1L << 30).hugePagesFrom(32L << 20).scavengerEnabled(false).shards(1).build())) {
            MemorySegment small = heap.allocate(16L << 20, TransparentHugePages.HUGE_PAGE_BYTES);
            small.fill((byte) 1);
            assertEquals(16L << 20, heap.stats().heldBytes());
            assertFalse(heap.stats().machine().hugePagesAdvised(), "16 MiB held, under the 32 MiB threshold");
            assertTrue(heap.report().contains(mode.honoursAdvice()
                    ? "heap does not ask yet (from 32.0 MiB held)" : "heap does not ask;"), heap.report());
            if (mode == TransparentHugePages.Mode.MADVISE) {
                assertEquals(0, heap.residentGauge().read(true).hugePageBytes());
            }
            MemorySegment more = heap.allocate(16L << 20, TransparentHugePages.HUGE_PAGE_BYTES);
            assertEquals(32L << 20, heap.stats().heldBytes());
            assertEquals(mode.honoursAdvice(), heap.stats().machine().hugePagesAdvised(), "32 MiB held: the threshold reached");
            more.fill((byte) 2);
            if (mode == TransparentHugePages.Mode.MADVISE) {
                assertTrue(heap.residentGauge().read(true).hugePageBytes() > 0, "the first arena, advised at the threshold, has no huge page");
            }
            heap.free(small);
            heap.free(more);
        }
    }

    @Test
    void negativeThresholdIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpanHeapConfig.builder().hugePagesFrom(-1));
        assertEquals("hugePagesFrom must be 0 or positive, was -1", e.getMessage());
    }

    /**
     * Threads of four shards map arenas while one of them crosses the threshold: every arena,
     * those mapped before the switch, during it and after, carries the kernel's {@code hg} flag
     * (MADV_HUGEPAGE) in /proc/self/smaps. Where the mode does not honour advice nothing is
     * advised, and the test is skipped with a message saying so.
     */
    @Test
    void everyArenaIsAdvisedWhenShardsGrowAcrossTheThreshold() throws Exception {
        assumeTrue(TransparentHugePages.mode().honoursAdvice(),
                () -> "skipped: THP mode " + TransparentHugePages.mode().label + " does not honour MADV_HUGEPAGE");
        int threads = 4;
        long block = 4L << 20;
        for (int round = 0; round < 10; round++) {
            try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(16 * HeapArena.BYTES)
                    .hugePagesFrom(3 * HeapArena.BYTES).scavengerEnabled(false).shards(threads).build())) {
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Thread> workers = new ArrayList<>();
                Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
                for (int t = 0; t < threads; t++) {
                    Thread worker = Thread.ofPlatform().start(() -> {
                        try {
                            start.await();
                            for (int i = 0; i < 24; i++) {
                                heap.allocateAddress(block); // 96 MiB per thread, never written: no RSS
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    });
                    workers.add(worker);
                }
                for (Thread worker : workers) {
                    worker.join();
                }
                assertTrue(failures.isEmpty(), () -> "a worker failed: " + failures.peek());
                AddressRange range = heap.addressRange();
                assertTrue(range.hugePages, "384 MiB held, over the 192 MiB threshold");
                assertTrue(range.arenaCount >= 6, "arenas mapped: " + range.arenaCount);
                long end = range.base + ((long) range.arenaCount << HeapArena.SHIFT);
                assertEquals("", unadvised(range.base, end), "round " + round + ": arenas without MADV_HUGEPAGE");
            }
        }
    }

    /** The mappings of {@code [start, end)} whose VmFlags in /proc/self/smaps lack {@code hg}, as "from-to " pairs; empty if none. */
    private static String unadvised(long start, long end) throws IOException {
        StringBuilder out = new StringBuilder();
        long from = 0;
        long to = 0;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && line.substring(0, dash).matches("[0-9a-f]+")) {
                from = Long.parseUnsignedLong(line.substring(0, dash), 16);
                to = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
            } else if (line.startsWith("VmFlags:") && from < end && to > start
                    && !Arrays.asList(line.substring(8).trim().split("\\s+")).contains("hg")) {
                out.append(Long.toHexString(Math.max(from, start))).append('-').append(Long.toHexString(Math.min(to, end))).append(' ');
            }
        }
        return out.toString();
    }
}
