package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The page heap on its own (one or two of them on a range of their own): best fit in address
 * order, coalescing, alignment, arenas, the limit, span reuse, and borrowing from another page heap.
 */
class PageHeapTest {

    private final List<AddressRange> ranges = new ArrayList<>();
    private AddressRange range;

    /** {@code count} page heaps sharing one new range. */
    private PageHeap[] newHeaps(SpanHeapConfig.Builder config, int count) {
        range = new AddressRange(config.scavengerEnabled(false).build());
        ranges.add(range);
        PageHeap[] heaps = new PageHeap[count];
        for (int i = 0; i < count; i++) {
            heaps[i] = new PageHeap(i, range, false);
        }
        range.setPageHeaps(heaps);
        return heaps;
    }

    private PageHeap newHeap(SpanHeapConfig.Builder config) {
        return newHeaps(config, 1)[0];
    }

    private PageHeap newHeap() {
        return newHeap(SpanHeapConfig.builder().addressSpaceBytes(4 * HeapArena.BYTES));
    }

    @AfterEach
    void unmap() {
        ranges.forEach(AddressRange::unmapAll);
    }

    private static void assertValid(PageHeap heap) {
        assertNull(heap.verify());
    }

    private boolean free(PageHeap heap, Span span) {
        return heap.freeLarge(range.arenaAt(span.start), span, span.start);
    }

    @Test
    void reservedRangeIsArenaAligned() {
        PageHeap heap = newHeap();
        assertEquals(0, range.base % HeapArena.BYTES);
        assertEquals(0, range.arenaCount, "no arena before the first request");
        assertEquals(0, heap.snapshot().arenasOwned());
    }

    @Test
    void firstRequestMapsOneArenaAndCarvesFromItsStart() {
        PageHeap heap = newHeap();
        Span a = heap.allocateLarge(3 * 8192, 3, 1);
        assertEquals(1, range.arenaCount);
        assertEquals(range.base, a.start);
        Span b = heap.allocateLarge(8192, 1, 1);
        assertEquals(range.base + 3 * 8192, b.start, "address order: the next run starts where the first ended");
        assertValid(heap);
    }

    @Test
    void freedNeighboursCoalesceIntoOneRun() {
        PageHeap heap = newHeap();
        Span a = heap.allocateLarge(8192, 1, 1);
        Span b = heap.allocateLarge(8192, 1, 1);
        Span c = heap.allocateLarge(8192, 1, 1);
        assertEquals(1, heap.snapshot().freeRuns());
        assertTrue(free(heap, a));
        assertTrue(free(heap, c));
        assertValid(heap);
        assertTrue(free(heap, b));
        assertValid(heap);
        assertEquals(1, heap.snapshot().freeRuns(), "a, b, c and the rest of the arena are one run again");
        assertEquals(HeapArena.PAGES, heap.snapshot().longestFreeRunPages());
    }

    @Test
    void bestFitTakesTheShortestRunThatFits() {
        PageHeap heap = newHeap();
        List<Span> spans = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            spans.add(heap.allocateLarge(8192, i % 2 == 0 ? 4 : 1, 1));
        }
        // Holes of 4 pages (index 2) and 4 pages (index 6), and one of 4 + 1 + 4 = 9 (indices 8..10).
        // Starts are kept first: freed span structures are reused by the next allocations.
        long hole2 = spans.get(2).start;
        long hole6 = spans.get(6).start;
        long hole8 = spans.get(8).start;
        for (int i : new int[] {2, 6, 8, 9, 10}) {
            assertTrue(free(heap, spans.get(i)));
        }
        assertValid(heap);
        Span three = heap.allocateLarge(3 * 8192, 3, 1);
        assertEquals(hole6, three.start, "the shortest fitting run; among short runs of one length the last freed");
        Span four = heap.allocateLarge(4 * 8192, 4, 1);
        assertEquals(hole2, four.start, "the other 4-page hole, not the 1-page rest of the first");
        Span eight = heap.allocateLarge(8 * 8192, 8, 1);
        assertEquals(hole8, eight.start, "the 9-page hole, not the arena's tail");
        Span one = heap.allocateLarge(8192, 1, 1);
        assertTrue(one.start == hole6 + 3 * 8192 || one.start == hole8 + 8 * 8192, "a 1-page rest, not the tail: " + one);
        assertValid(heap);
    }

    @Test
    void longRunsOfEqualLengthAreTakenLowestAddressFirst() {
        PageHeap heap = newHeap();
        int length = FreeRunIndex.SHORT_RUN_LIMIT + 10;
        List<Span> spans = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            spans.add(heap.allocateLarge((long) (i % 2 == 0 ? length : 1) * 8192, i % 2 == 0 ? length : 1, 1));
        }
        long low = spans.get(2).start;
        long high = spans.get(4).start;
        assertTrue(free(heap, spans.get(4)));
        assertTrue(free(heap, spans.get(2)));
        Span taken = heap.allocateLarge((long) length * 8192, length, 1);
        assertEquals(low, taken.start);
        Span next = heap.allocateLarge((long) length * 8192, length, 1);
        assertEquals(high, next.start);
        assertValid(heap);
    }

    @Test
    void alignedRunsStartOnTheirAlignmentAndGiveTheSlackBack() {
        PageHeap heap = newHeap();
        heap.allocateLarge(8192, 1, 1);
        Span aligned = heap.allocateLarge(1 << 20, 128, 128);
        assertEquals(0, (aligned.start - range.base) % (128 * 8192));
        assertValid(heap);
        assertEquals(HeapArena.PAGES - 1 - 128, heap.snapshot().freePages());
    }

    @Test
    void aWholeArenaFitsAndTheNextRequestMapsAnotherArena() {
        PageHeap heap = newHeap();
        Span whole = heap.allocateLarge(HeapArena.BYTES, HeapArena.PAGES, 1);
        assertEquals(range.base, whole.start);
        Span next = heap.allocateLarge(8192, 1, 1);
        assertEquals(2, range.arenaCount);
        assertEquals(range.base + HeapArena.BYTES, next.start);
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
        assertEquals(512 << 10, range.heldBytes());
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> heap.allocateLarge(600 << 10, 75, 1));
        assertTrue(e.getMessage().contains("maxHeapBytes 1048576"), e.getMessage());
        assertValid(heap);
        assertTrue(free(heap, a));
        // The freed pages are dirty but get released to make room: the same request now fits.
        Span b = heap.allocateLarge(600 << 10, 75, 1);
        assertValid(heap);
        assertTrue(range.heldBytes() <= 1 << 20, "held " + range.heldBytes());
        assertTrue(free(heap, b));
    }

    @Test
    void reusedPagesNeedZeroingAndReleasedOnesDoNot() {
        PageHeap heap = newHeap();
        Span fresh = heap.allocateLarge(8192 * 4, 4, 1);
        assertTrue(!fresh.needsZero, "pages fresh from mmap are zero");
        long freshStart = fresh.start;
        assertTrue(free(heap, fresh));
        Span reused = heap.allocateLarge(8192 * 4, 4, 1);
        assertEquals(freshStart, reused.start);
        assertTrue(reused.needsZero, "pages used before must be cleared");
        assertTrue(free(heap, reused));
        heap.lock.lock();
        try {
            assertEquals(4 * 8192, heap.releaser.releaseAllFree(-1));
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
        Span[] one = new Span[1];
        assertEquals(1, heap.allocateSmallSpans(SizeClasses.classOf(2000), 0, one, 1));
        Span small = one[0];
        Span large = heap.allocateLarge(5 * 8192, 5, 1);
        for (long a = small.start; a < small.end(); a += 4096) {
            assertSame(small, range.spanAt(a));
        }
        for (long a = large.start; a < large.end(); a += 4096) {
            assertSame(large, range.spanAt(a));
        }
        assertNull(range.spanAt(large.end()));
        assertNull(range.spanAt(range.base - 8));
        assertNull(range.spanAt(range.base + 3 * HeapArena.BYTES));
        int sizeClass = SizeClasses.classOf(2000);
        for (int i = 0; i < small.pages; i++) {
            assertEquals(sizeClass | i << 8, range.pageInfo[(int) (small.firstPage + i)]);
        }
        assertEquals(0, range.pageInfo[(int) large.firstPage], "large pages take the slow path");
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
                assertTrue(free(heap, victim), "seed " + seed);
            }
            String problem = heap.verify();
            assertNull(problem, "seed " + seed + " step " + step + ": " + problem);
        }
        live.forEach(s -> assertTrue(free(heap, s)));
        assertValid(heap);
        assertEquals(range.arenaCount, heap.snapshot().freeRuns(), "everything free: one run per arena");
    }

    @Test
    void freedSpanStructuresAreReusedAndADoubleFreeOfAReusedOneIsRefused() {
        PageHeap heap = newHeap();
        Span first = heap.allocateLarge(2 * 8192, 2, 1);
        long firstStart = first.start;
        assertTrue(free(heap, first));
        Span second = heap.allocateLarge(8 * 8192, 8, 1);
        assertSame(first, second, "the freed structure is taken from the pool");
        assertEquals(firstStart, second.start, "best fit reuses the freed pages too");
        assertTrue(!heap.freeLarge(range.arenaAt(firstStart + 8192), second, firstStart + 8192), "an address inside the object is refused");
        assertTrue(free(heap, second));
        assertTrue(!heap.freeLarge(range.arenaAt(firstStart), second, firstStart), "a double free is refused");
        assertValid(heap);
    }

    @Test
    void aHeapTakesAnotherHeapsFreeRunBeforeItMapsAnArena() {
        PageHeap[] heaps = newHeaps(SpanHeapConfig.builder().addressSpaceBytes(4 * HeapArena.BYTES), 2);
        Span a = heaps[0].allocateLarge(8192, 1, 1);
        Span b = heaps[1].allocateLarge(3 * 8192, 3, 1);
        assertEquals(1, range.arenaCount, "the second heap takes the first one's free run instead of mapping");
        assertSame(heaps[0], range.arenaAt(b.start).owner);
        assertEquals(4 * 8192, range.heldBytes());
        assertEquals(4, heaps[0].snapshot().pagesInSpans(), "the borrowed span is counted by the heap that owns it");
        assertEquals(0, heaps[1].snapshot().pagesInSpans());
        assertTrue(!heaps[1].freeLarge(range.arenaAt(b.start), b, b.start), "a span is freed by the heap that owns it, not the borrower");
        assertTrue(free(heaps[0], b));
        assertTrue(free(heaps[0], a));
        assertValid(heaps[0]);
        assertValid(heaps[1]);
    }

    @Test
    void aHeapThatFindsTheOtherHeapBusyMapsAnArenaOfItsOwnAndTakesHeldPagesBeforeCleanOnes() throws Exception {
        PageHeap[] heaps = newHeaps(SpanHeapConfig.builder().addressSpaceBytes(8 * HeapArena.BYTES), 2);
        // Three whole arenas in use, so that the page table already covers a fourth: growing it
        // takes every page heap's lock, which the holder below keeps.
        Span[] full = new Span[3];
        for (int i = 0; i < full.length; i++) {
            full[i] = heaps[0].allocateLarge(HeapArena.BYTES, HeapArena.PAGES, 1);
        }
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            heaps[0].lock.lock();
            try {
                locked.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                heaps[0].lock.unlock();
            }
        });
        locked.await();
        Span b;
        try {
            b = heaps[1].allocateLarge(3 * 8192, 3, 1);
        } finally {
            done.countDown();
            holder.join();
        }
        assertEquals(4, range.arenaCount, "a busy heap is not waited for: the other maps an arena");
        assertSame(heaps[1], range.arenaAt(b.start).owner);
        Span c = heaps[1].allocateLarge(8192, 1, 1);
        assertSame(heaps[1], range.arenaAt(c.start).owner, "with no held pages free anywhere, its own clean pages come first");
        assertEquals(3 * HeapArena.BYTES + 4 * 8192, range.heldBytes(), "held bytes are counted over both heaps");
        assertTrue(free(heaps[0], full[2]));
        Span d = heaps[1].allocateLarge(8192, 1, 1);
        assertSame(heaps[0], range.arenaAt(d.start).owner, "the other heap's held pages come before its own clean ones");
        assertEquals(3 * HeapArena.BYTES + 4 * 8192, range.heldBytes(), "so held memory does not grow");
        assertTrue(free(heaps[1], b));
        assertTrue(free(heaps[1], c));
        assertTrue(free(heaps[0], d));
        assertTrue(free(heaps[0], full[0]));
        assertTrue(free(heaps[0], full[1]));
        assertValid(heaps[0]);
        assertValid(heaps[1]);
    }

    @Test
    void heldPagesAreAskedForFromTheNextSevenHeapsOnly() {
        PageHeap[] heaps = newHeaps(SpanHeapConfig.builder().addressSpaceBytes(16 * HeapArena.BYTES), PageHeap.DIRTY_LENDERS + 3);
        PageHeap lender = heaps[heaps.length - 1];
        // Heap 0 owns an arena with 8 clean pages free; the last heap one of its own (heap 0's
        // 8 pages do not fit its 16) with 16 dirty free pages at its start.
        Span most = heaps[0].allocateLarge((long) (HeapArena.PAGES - 8) << SizeClasses.PAGE_SHIFT, HeapArena.PAGES - 8, 1);
        Span sixteen = lender.allocateLarge(16 * 8192, 16, 1);
        assertSame(lender, range.arenaAt(sixteen.start).owner);
        assertTrue(free(lender, sixteen));
        long held = range.heldBytes();
        Span near = heaps[0].allocateLarge(8192, 1, 1);
        assertSame(heaps[0], range.arenaAt(near.start).owner, "the last heap is not among heap 0's next seven: heap 0's clean pages come first");
        assertEquals(held + 8192, range.heldBytes());
        Span far = heaps[2].allocateLarge(8192, 1, 1);
        assertSame(lender, range.arenaAt(far.start).owner, "heap 2's next seven reach the last heap: its held pages come first");
        assertEquals(held + 8192, range.heldBytes(), "a held page, so held memory does not grow");
        assertTrue(free(heaps[0], near));
        assertTrue(free(heaps[0], most));
        assertTrue(free(lender, far));
        for (PageHeap heap : heaps) {
            assertValid(heap);
        }
    }

    /**
     * Four threads, each on a page heap of its own, take large objects and small spans and free
     * them through the heap that owns them, so that runs are lent back and forth while the locks
     * are taken and given up: no page may go to two spans, every span's first word must still be
     * its owner's stamp at its free, and every heap's counts must add up afterwards.
     */
    @Test
    void fourHeapsLendingToEachOtherFromFourThreadsNeverHandOutAPageTwice() throws Exception {
        PageHeap[] heaps = newHeaps(SpanHeapConfig.builder().addressSpaceBytes(16 * HeapArena.BYTES), 4);
        int smallClass = SizeClasses.classOf(8192);
        ConcurrentHashMap<Long, Long> pagesInUse = new ConcurrentHashMap<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger lent = new AtomicInteger();
        Thread[] threads = new Thread[heaps.length];
        for (int t = 0; t < threads.length; t++) {
            PageHeap heap = heaps[t];
            long seed = 31L * t + 7;
            threads[t] = Thread.ofPlatform().start(() -> {
                try {
                    Random random = new Random(seed);
                    List<Span> live = new ArrayList<>();
                    Span[] out = new Span[4];
                    for (int i = 0; i < 20_000; i++) {
                        if (live.size() < 64 && random.nextBoolean()) {
                            if (random.nextInt(3) == 0) {
                                int got = heap.allocateSmallSpans(smallClass, heap.index, out, 1 + random.nextInt(4));
                                for (int k = 0; k < got; k++) {
                                    live.add(claim(out[k], pagesInUse));
                                }
                            } else {
                                int pages = 5 + random.nextInt(60);
                                live.add(claim(heap.allocateLarge((long) pages << SizeClasses.PAGE_SHIFT, pages, 1), pagesInUse));
                            }
                        } else if (!live.isEmpty()) {
                            Span span = live.remove(random.nextInt(live.size()));
                            if (giveBack(span, pagesInUse) != heap) {
                                lent.incrementAndGet();
                            }
                        }
                    }
                    for (Span span : live) {
                        giveBack(span, pagesInUse);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("a worker failed", failure.get());
        }
        assertTrue(pagesInUse.isEmpty());
        assertTrue(lent.get() > 0, "no span was lent: the test did not reach what it is for");
        long freePages = 0;
        for (PageHeap heap : heaps) {
            assertValid(heap);
            PageHeap.Snapshot snapshot = heap.snapshot();
            assertEquals(0, snapshot.pagesInSpans(), "heap " + heap.index + " still counts pages in spans");
            freePages += snapshot.freePages();
        }
        assertEquals((long) range.arenaCount * HeapArena.PAGES, freePages, "every page of every arena is free again");
    }

    /** Records every page of {@code span} as in use (failing if one already is) and stamps its first word. */
    private static Span claim(Span span, ConcurrentHashMap<Long, Long> pagesInUse) {
        for (long page = span.firstPage; page < span.firstPage + span.pages; page++) {
            Long before = pagesInUse.putIfAbsent(page, span.start);
            assertNull(before, () -> "page handed out twice");
        }
        MemorySegment.ofAddress(span.start).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, span.start ^ 0x5A5A);
        return span;
    }

    /** Checks {@code span}'s stamp, forgets its pages and frees it through the page heap that owns it, which it returns. */
    private PageHeap giveBack(Span span, ConcurrentHashMap<Long, Long> pagesInUse) {
        assertEquals(span.start ^ 0x5A5A, MemorySegment.ofAddress(span.start).reinterpret(8).get(ValueLayout.JAVA_LONG, 0),
                "the span's first word was written by someone else");
        for (long page = span.firstPage; page < span.firstPage + span.pages; page++) {
            assertEquals(span.start, pagesInUse.remove(page));
        }
        PageHeap owner = range.arenaAt(span.start).owner;
        if (span.isLarge()) {
            assertTrue(owner.freeLarge(range.arenaAt(span.start), span, span.start));
        } else {
            owner.freeSmallSpans(new Span[] {span}, 0, 1);
        }
        return owner;
    }

    @Test
    void aFullRangeBorrowsFreeRunsFromAnotherPageHeap() {
        PageHeap[] heaps = newHeaps(SpanHeapConfig.builder().addressSpaceBytes(HeapArena.BYTES), 2);
        Span a = heaps[0].allocateLarge(8192, 1, 1);
        Span borrowed = heaps[1].allocateLarge(8192, 1, 1);
        assertEquals(1, range.arenaCount, "the range holds one arena only");
        assertSame(heaps[0], range.arenaAt(borrowed.start).owner, "taken from the heap that owns the arena");
        assertValid(heaps[0]);
        assertValid(heaps[1]);
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> heaps[1].allocateLarge(HeapArena.BYTES, HeapArena.PAGES, 1));
        assertTrue(e.getMessage().contains("addressSpaceBytes"), e.getMessage());
        assertTrue(free(heaps[0], borrowed));
        assertTrue(free(heaps[0], a));
        assertValid(heaps[0]);
    }

    @Test
    void severalSmallSpansComeInOneCallOnlyAsFarAsTheLimitAllows() {
        PageHeap heap = newHeap(SpanHeapConfig.builder().addressSpaceBytes(2 * HeapArena.BYTES).maxHeapBytes(64 << 10));
        int c = SizeClasses.classOf(4096);
        assertEquals(1, SizeClasses.SPAN_PAGES[c]);
        Span large = heap.allocateLarge(48 << 10, 6, 1);
        Span[] out = new Span[16];
        // 2 pages are left under the limit: the first span is taken as usual, the second from a
        // held run, and the call stops there instead of failing at the limit.
        assertEquals(2, heap.allocateSmallSpans(c, 0, out, 16));
        assertEquals(64 << 10, range.heldBytes());
        assertTrue(out[0].start != out[1].start && out[0].sizeClass == c && out[1].sizeClass == c);
        assertSame(out[1], range.spanAt(out[1].start + 100));
        assertValid(heap);
        heap.freeSmallSpans(out, 0, 2);
        assertNull(range.spanAt(out[0].start));
        assertValid(heap);
        // With the pages now held (dirty), a call takes as many as asked for.
        assertTrue(free(heap, large));
        assertEquals(5, heap.allocateSmallSpans(c, 0, out, 5));
        assertValid(heap);
        heap.freeSmallSpans(out, 0, 5);
        assertValid(heap);
    }

    @Test
    void severalSmallSpansFromAFullRangeBorrowOnlyOne() {
        PageHeap[] heaps = newHeaps(SpanHeapConfig.builder().addressSpaceBytes(HeapArena.BYTES), 2);
        Span a = heaps[0].allocateLarge(8192, 1, 1);
        Span[] out = new Span[16];
        assertEquals(1, heaps[1].allocateSmallSpans(SizeClasses.classOf(4096), 1, out, 16));
        assertSame(heaps[0], range.arenaAt(out[0].start).owner, "borrowed from the heap that owns the arena");
        assertEquals(1, out[0].listShard);
        heaps[0].freeSmallSpans(out, 0, 1);
        assertTrue(free(heaps[0], a));
        assertValid(heaps[0]);
        assertValid(heaps[1]);
    }
}
