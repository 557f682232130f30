package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The page heap on its own: best fit in address order, coalescing, alignment, arenas, the limit. */
class PageHeapTest {

    private final List<PageHeap> heaps = new ArrayList<>();

    private PageHeap newHeap(SpanHeapConfig.Builder config) {
        PageHeap heap = new PageHeap(config.scavengerEnabled(false).build());
        heaps.add(heap);
        return heap;
    }

    private PageHeap newHeap() {
        return newHeap(SpanHeapConfig.builder().addressSpaceBytes(4 * HeapArena.BYTES));
    }

    @AfterEach
    void unmap() {
        heaps.forEach(PageHeap::unmapAll);
    }

    private static void assertValid(PageHeap heap) {
        assertNull(heap.verify());
    }

    @Test
    void reservedRangeIsArenaAligned() {
        PageHeap heap = newHeap();
        assertEquals(0, heap.base % HeapArena.BYTES);
        assertEquals(0, heap.arenaCount, "no arena before the first request");
    }

    @Test
    void firstRequestMapsOneArenaAndCarvesFromItsStart() {
        PageHeap heap = newHeap();
        Span a = heap.allocateLarge(3 * 8192, 3, 1);
        assertEquals(1, heap.arenaCount);
        assertEquals(heap.base, a.start);
        Span b = heap.allocateLarge(8192, 1, 1);
        assertEquals(heap.base + 3 * 8192, b.start, "address order: the next run starts where the first ended");
        assertValid(heap);
    }

    @Test
    void freedNeighboursCoalesceIntoOneRun() {
        PageHeap heap = newHeap();
        Span a = heap.allocateLarge(8192, 1, 1);
        Span b = heap.allocateLarge(8192, 1, 1);
        Span c = heap.allocateLarge(8192, 1, 1);
        heap.lock.lock();
        try {
            assertEquals(1, heap.freeRunCount());
        } finally {
            heap.lock.unlock();
        }
        assertTrue(heap.freeLarge(a));
        assertTrue(heap.freeLarge(c));
        assertValid(heap);
        assertTrue(heap.freeLarge(b));
        assertValid(heap);
        heap.lock.lock();
        try {
            assertEquals(1, heap.freeRunCount(), "a, b, c and the rest of the arena are one run again");
            assertEquals(HeapArena.PAGES, heap.largestFreeRunPages());
        } finally {
            heap.lock.unlock();
        }
    }

    @Test
    void bestFitTakesTheShortestRunThatFitsThenTheLowestAddress() {
        PageHeap heap = newHeap();
        List<Span> spans = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            spans.add(heap.allocateLarge(8192, i % 2 == 0 ? 4 : 1, 1));
        }
        // Holes of 4 pages (index 2) and 4 pages (index 6), and one of 4 + 1 + 4 = 9 (indices 8..10).
        heap.freeLarge(spans.get(2));
        heap.freeLarge(spans.get(6));
        heap.freeLarge(spans.get(8));
        heap.freeLarge(spans.get(9));
        heap.freeLarge(spans.get(10));
        assertValid(heap);
        Span three = heap.allocateLarge(3 * 8192, 3, 1);
        assertEquals(spans.get(2).start, three.start, "shortest fitting run, lowest address first");
        Span four = heap.allocateLarge(4 * 8192, 4, 1);
        assertEquals(spans.get(6).start, four.start);
        Span eight = heap.allocateLarge(8 * 8192, 8, 1);
        assertEquals(spans.get(8).start, eight.start, "the 9-page hole, not the arena's tail");
        assertValid(heap);
    }

    @Test
    void alignedRunsStartOnTheirAlignmentAndGiveTheSlackBack() {
        PageHeap heap = newHeap();
        heap.allocateLarge(8192, 1, 1);
        Span aligned = heap.allocateLarge(1 << 20, 128, 128);
        assertEquals(0, (aligned.start - heap.base) % (128 * 8192));
        assertValid(heap);
        heap.lock.lock();
        try {
            assertEquals(HeapArena.PAGES - 1 - 128, heap.freePages);
        } finally {
            heap.lock.unlock();
        }
    }

    @Test
    void aWholeArenaFitsAndTheNextRequestMapsAnotherArena() {
        PageHeap heap = newHeap();
        Span whole = heap.allocateLarge(HeapArena.BYTES, HeapArena.PAGES, 1);
        assertEquals(heap.base, whole.start);
        Span next = heap.allocateLarge(8192, 1, 1);
        assertEquals(2, heap.arenaCount);
        assertEquals(heap.base + HeapArena.BYTES, next.start);
        assertValid(heap);
    }

    @Test
    void exhaustedAddressRangeFailsWithAClearOutOfMemoryError() {
        PageHeap heap = newHeap(SpanHeapConfig.builder().addressSpaceBytes(HeapArena.BYTES));
        heap.allocateLarge(HeapArena.BYTES, HeapArena.PAGES, 1);
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> heap.allocateLarge(8192, 1, 1));
        assertTrue(e.getMessage().contains("addressSpaceBytes"), e.getMessage());
        assertValid(heap);
    }

    @Test
    void heldBytesCountsSpansAndDirtyFreePagesAndTheLimitHolds() {
        PageHeap heap = newHeap(SpanHeapConfig.builder().addressSpaceBytes(2 * HeapArena.BYTES).maxHeapBytes(1 << 20));
        Span a = heap.allocateLarge(512 << 10, 64, 1);
        heap.lock.lock();
        try {
            assertEquals(512 << 10, heap.heldBytes());
        } finally {
            heap.lock.unlock();
        }
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> heap.allocateLarge(600 << 10, 75, 1));
        assertTrue(e.getMessage().contains("maxHeapBytes 1048576"), e.getMessage());
        assertValid(heap);
        heap.freeLarge(a);
        // The freed pages are dirty but get released to make room: the same request now fits.
        Span b = heap.allocateLarge(600 << 10, 75, 1);
        assertValid(heap);
        heap.lock.lock();
        try {
            assertTrue(heap.heldBytes() <= 1 << 20, "held " + heap.heldBytes());
        } finally {
            heap.lock.unlock();
        }
        assertTrue(heap.freeLarge(b));
    }

    @Test
    void reusedPagesNeedZeroingAndReleasedOnesDoNot() {
        PageHeap heap = newHeap();
        Span fresh = heap.allocateLarge(8192 * 4, 4, 1);
        assertTrue(!fresh.needsZero, "pages fresh from mmap are zero");
        heap.freeLarge(fresh);
        Span reused = heap.allocateLarge(8192 * 4, 4, 1);
        assertEquals(fresh.start, reused.start);
        assertTrue(reused.needsZero, "pages used before must be cleared");
        heap.freeLarge(reused);
        heap.lock.lock();
        try {
            assertEquals(4 * 8192, heap.releaseAllFree(-1));
        } finally {
            heap.lock.unlock();
        }
        Span released = heap.allocateLarge(8192 * 4, 4, 1);
        assertTrue(!released.needsZero, "MADV_DONTNEED pages read as zero");
        assertValid(heap);
    }

    @Test
    void spanAtMapsEveryPageOfASpanAndNothingElse() {
        PageHeap heap = newHeap();
        Span small = heap.allocateSmallSpan(SizeClasses.classOf(2000));
        Span large = heap.allocateLarge(5 * 8192, 5, 1);
        for (long a = small.start; a < small.end(); a += 4096) {
            assertSame(small, heap.spanAt(a));
        }
        for (long a = large.start; a < large.end(); a += 4096) {
            assertSame(large, heap.spanAt(a));
        }
        assertNull(heap.spanAt(large.end()));
        assertNull(heap.spanAt(heap.base - 8));
        assertNull(heap.spanAt(heap.base + 3 * HeapArena.BYTES));
        int sizeClass = SizeClasses.classOf(2000);
        for (int i = 0; i < small.pages; i++) {
            assertEquals(sizeClass | i << 8, heap.pageInfo[(int) (small.firstPage + i)]);
        }
        assertEquals(0, heap.pageInfo[(int) large.firstPage], "large pages take the slow path");
        assertValid(heap);
    }

    /** Random allocate/free of runs of every length, with the heap's equations checked after each step. */
    @Test
    void randomRunsKeepEveryEquation() {
        long seed = Long.getLong("spanheap.seed", System.nanoTime());
        Random random = new Random(seed);
        PageHeap heap = newHeap();
        List<Span> live = new ArrayList<>();
        long livePages = 0;
        for (int step = 0; step < 3000; step++) {
            // Stay within two of the four arenas' worth of pages, so the range never runs out.
            if (live.isEmpty() || (random.nextInt(100) < 55 && livePages < 2 * HeapArena.PAGES)) {
                int pages = random.nextInt(10) == 0 ? 1 + random.nextInt(2000) : 1 + random.nextInt(16);
                int align = random.nextInt(20) == 0 ? 1 << random.nextInt(6) : 1;
                Span s = heap.allocateLarge((long) pages * 8192, pages, align);
                assertEquals(0, (s.firstPage) % align, "seed " + seed);
                live.add(s);
                livePages += pages;
            } else {
                Span victim = live.remove(random.nextInt(live.size()));
                livePages -= victim.pages;
                assertTrue(heap.freeLarge(victim), "seed " + seed);
            }
            String problem = heap.verify();
            assertNull(problem, "seed " + seed + " step " + step + ": " + problem);
        }
        live.forEach(heap::freeLarge);
        assertValid(heap);
        heap.lock.lock();
        try {
            assertEquals(heap.arenaCount, heap.freeRunCount(), "everything free: one run per arena");
        } finally {
            heap.lock.unlock();
        }
    }
}
