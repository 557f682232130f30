package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Page caches: a thread's freed large object becomes its run, its next large allocations that fit
 * are cut from the run and stack-order frees merge back without a lock; everything else, other
 * threads' frees and double frees included, goes through the page heap; the scavenger, an explicit
 * release and the end of the thread give the run back; statistics and invariants stay exact.
 */
class PageCacheTest {

    private static final long PAGE = SizeClasses.PAGE_SIZE;
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static SpanHeapConfig.Builder config() {
        return SpanHeapConfig.builder().shards(1).scavengerEnabled(false).hugePages(false);
    }

    @Test
    void aFreedLargeObjectBecomesTheRunAndTheNextAllocationsAreCutFromItsStart() {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            long a = heap.allocateAddress(MIB);
            heap.freeAddress(a);
            heap.verifyInvariants();
            HeapStats stats = heap.stats();
            assertEquals(MIB, stats.pageCacheBytes(), "the freed object is the thread's run: " + stats);
            assertEquals(0, stats.largeObjects());
            assertEquals(MIB, stats.heldBytes(), "held: the run's pages");

            long b = heap.allocateAddress(256 * KIB);
            assertEquals(a, b, "cut from the run's start");
            long c = heap.allocateAddress(100 * KIB);
            assertEquals(a + 256 * KIB, c, "the next cut follows");
            heap.verifyInvariants();
            stats = heap.stats();
            assertEquals(MIB - 256 * KIB - 104 * KIB, stats.pageCacheBytes());
            assertEquals(2, stats.largeObjects());
            assertEquals(256 * KIB + 104 * KIB, stats.largeObjectBytes());
            assertEquals(256 * KIB + 100 * KIB, stats.largeRequestedBytes());
            assertEquals(MIB, stats.heldBytes());
            assertEquals(3, stats.totalAllocations());
            assertEquals(2, stats.allocationsFromPageCache(), "the two cuts");
            assertEquals(3, stats.allocationsFromPageHeap(), "the first from the page heap, the two cuts from the page cache");
            assertEquals(0, stats.allocationsFromCache(), "no small allocation");

            // Stack order: each free ends where the run begins and merges back.
            heap.freeAddress(c);
            heap.freeAddress(b);
            heap.verifyInvariants();
            stats = heap.stats();
            assertEquals(MIB, stats.pageCacheBytes(), "merged back whole: " + stats);
            assertEquals(0, stats.liveObjects());
            assertEquals(3, stats.totalFrees());
            assertEquals(b, heap.allocateAddress(MIB), "the whole run cut again");
            assertEquals(3, heap.stats().allocationsFromPageCache(), "a request of exactly the run's length is cut from it");
            assertEquals(0, heap.stats().pageCacheBytes());
            heap.verifyInvariants();
            heap.freeAddress(b);
            heap.verifyInvariants();
        }
    }

    @Test
    void aFreeOutOfStackOrderGoesToThePageHeapAndTheRunStays() {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            heap.freeAddress(heap.allocateAddress(MIB));
            long b = heap.allocateAddress(200 * KIB); // 25 pages
            long c = heap.allocateAddress(300 * KIB); // 38 pages
            heap.freeAddress(b); // neither the last allocation nor where the run begins (c is between)
            heap.verifyInvariants();
            HeapStats stats = heap.stats();
            assertEquals(MIB - 200 * KIB - 304 * KIB, stats.pageCacheBytes(), "the run is unchanged: " + stats);
            assertEquals(64 * MIB - MIB + 200 * KIB, stats.freePageBytes(), "b's pages are in the index: " + stats);
            assertEquals(1, stats.largeObjects());
            heap.freeAddress(c); // ends where the run begins: merges back
            heap.verifyInvariants();
            stats = heap.stats();
            assertEquals(MIB - 200 * KIB, stats.pageCacheBytes());
            assertEquals(0, stats.liveObjects());
            assertEquals(stats.totalAllocations(), stats.totalFrees());
        }
    }

    @Test
    void onlyTheLastAllocationBecomesTheRunWhenFreed() {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            long a = heap.allocateAddress(MIB);
            long b = heap.allocateAddress(MIB);
            heap.freeAddress(a); // out of stack order: a window of live blocks gains nothing from a run
            assertEquals(0, heap.stats().pageCacheBytes());
            assertEquals(MIB, heap.stats().retainedFreeBytes());
            heap.freeAddress(b); // the last allocation: the run
            assertEquals(MIB, heap.stats().pageCacheBytes());
            heap.verifyInvariants();
        }
    }

    @Test
    void aDoubleFreeOfACutSpanIsRefusedAndTheHeapStaysIntact() {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            heap.freeAddress(heap.allocateAddress(MIB));
            long b = heap.allocateAddress(100 * KIB);
            heap.freeAddress(b);
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(b));
            assertTrue(twice.getMessage().contains(Errors.hex(b)), twice.getMessage());
            assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(b + 8 * PAGE), "inside the run");
            heap.verifyInvariants();
            long c = heap.allocateAddress(100 * KIB);
            long d = heap.allocateAddress(100 * KIB);
            heap.freeAddress(c); // out of stack order: through the page heap, which lends it
            assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(c));
            heap.freeAddress(d);
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
        }
    }

    @Test
    void anotherThreadsFreeOfACutSpanIsCountedExactly() throws Exception {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            heap.freeAddress(heap.allocateAddress(MIB));
            long b = heap.allocateAddress(300 * KIB);
            long c = heap.allocateAddress(300 * KIB);
            Thread other = Thread.ofPlatform().start(() -> {
                heap.freeAddress(c); // not this thread's allocation: through the page heap, into the index
                heap.freeAddress(heap.allocateAddress(64 * KIB)); // stack order: becomes this thread's run
            });
            other.join();
            heap.verifyInvariants();
            HeapStats stats = heap.stats();
            assertEquals(1, stats.largeObjects(), stats.toString());
            assertEquals(304 * KIB, stats.retainedFreeBytes(), "c came back when the ended thread's cache was reclaimed: " + stats);
            assertEquals(MIB - 2 * 304 * KIB, stats.pageCacheBytes(), "this thread's run");
            assertEquals(MIB, stats.heldBytes());
            heap.reclaimDeadCaches(); // the ended thread's run goes back
            heap.freeAddress(b);
            heap.verifyInvariants();
            stats = heap.stats();
            assertEquals(0, stats.liveObjects());
            assertEquals(stats.totalAllocations(), stats.totalFrees());
            assertEquals(4, stats.totalAllocations());
        }
    }

    @Test
    void theScavengerTakesBackARunUnusedForAPassAndThenReleasesIt() {
        try (SpanHeap heap = SpanHeap.create(config().scavengerDelay(Duration.ZERO).scavengerRetainRatio(0).build())) {
            heap.freeAddress(heap.allocateAddress(2 * MIB));
            assertEquals(2 * MIB, heap.stats().pageCacheBytes());
            heap.scavengeOnce();
            assertEquals(2 * MIB, heap.stats().pageCacheBytes(), "used since the last pass: kept");
            heap.scavengeOnce();
            HeapStats stats = heap.stats();
            assertEquals(0, stats.pageCacheBytes(), "unused for a whole pass: taken back: " + stats);
            heap.verifyInvariants();
            heap.scavengeOnce();
            stats = heap.stats();
            assertEquals(0, stats.heldBytes(), "then released as any free run: " + stats);
            assertTrue(stats.releasedBytesTotal() >= 2 * MIB);
            heap.freeAddress(heap.allocateAddress(MIB));
            heap.verifyInvariants();
        }
    }

    @Test
    void anExplicitReleaseTakesBackTheRunsOfThreadsThatKeepRunning() throws Exception {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            CountDownLatch done = new CountDownLatch(1);
            // The thread goes on after the release.
            Thread other = threadWithARun(heap, 3 * MIB, done, () -> heap.freeAddress(heap.allocateAddress(MIB)));
            assertEquals(3 * MIB, heap.stats().pageCacheBytes());
            long released = heap.releaseFreeMemory();
            assertTrue(released >= 3 * MIB, "released " + released);
            assertEquals(0, heap.stats().pageCacheBytes());
            assertEquals(0, heap.stats().heldBytes());
            heap.verifyInvariants();
            done.countDown();
            other.join();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
        }
    }

    @Test
    void theReportAndTheHeapSnapshotShowACachedRun() {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            long kept = heap.allocateAddress(100 * KIB);
            heap.freeAddress(heap.allocateAddress(MIB));
            HeapPageSnapshot.ArenaPages arena = HeapPageSnapshot.take(heap).arenas.get(0);
            assertEquals(MIB / PAGE, arena.count(HeapPageSnapshot.CACHED));
            assertEquals(13, arena.count(HeapPageSnapshot.LARGE));
            String report = heap.report();
            assertTrue(report.contains("free pages in page caches"), report);
            String row = report.lines().filter(l -> l.trim().startsWith("0  0x")).findFirst().orElseThrow();
            List<String> cells = List.of(row.trim().split("\\s+"));
            assertEquals("128", cells.get(6), "the cached column: " + row);
            assertEquals("1", cells.get(7), "one free run (the arena's rest), the cached run not among them: " + row);
            heap.freeAddress(kept);
        }
    }

    @Test
    void aRunMergesBackUpToItsLongestAndTheSpanStructuresAreReused() {
        try (SpanHeap heap = SpanHeap.create(config().pageCacheBytes(256 * KIB).build())) {
            long whole = heap.allocateAddress(256 * KIB);
            heap.freeAddress(whole); // the run: 32 pages, the longest this cache holds
            java.util.Set<Span> structures = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (int i = 0; i < 50; i++) {
                long half = heap.allocateAddress(128 * KIB);
                assertEquals(whole, half, "cut from the run's start");
                structures.add(heap.addressRange().spanAt(half));
                heap.freeAddress(half); // merges back to exactly 32 pages
                assertEquals(256 * KIB, heap.stats().pageCacheBytes(), "round " + i);
            }
            assertEquals(1, structures.size(), "one span structure, taken from the pool and kept again");
            assertEquals(whole, heap.allocateAddress(256 * KIB), "the run is whole again");
            assertEquals(51, heap.stats().allocationsFromPageCache());
            heap.verifyInvariants();
        }
    }

    @Test
    void aRunItsOwnerIsWorkingOnIsNotTakenBackAndTheCacheWorksAfterwards() {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            heap.freeAddress(heap.allocateAddress(MIB));
            PageCache cache = heap.cacheRegistry().ownCache().pageCache;
            assertTrue(cache.enter(), "nobody else holds it");
            try {
                assertTrue(!cache.enter(), "a second enter is refused");
                heap.releaseFreeMemory();
                assertEquals(MIB, heap.stats().pageCacheBytes(), "kept: its owner is working on it");
            } finally {
                cache.leave();
            }
            heap.releaseFreeMemory();
            assertEquals(0, heap.stats().pageCacheBytes(), "taken back once the owner is done");
            long a = heap.allocateAddress(512 * KIB);
            heap.freeAddress(a);
            assertEquals(512 * KIB, heap.stats().pageCacheBytes(), "a new run after the take-back");
            assertEquals(a, heap.allocateAddress(100 * KIB), "and cuts from it");
            heap.verifyInvariants();
        }
    }

    /**
     * A free in stack order that meets another thread taking the cache's run back (holding its
     * try-lock, played here by the test) does not wait: the page heap indexes the pages instead of
     * lending them, and the next such free lends them again.
     */
    @Test
    void aStackOrderFreeThatMeetsATakerGoesToThePageHeapsIndex() {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            long a = heap.allocateAddress(256 * KIB);
            PageCache cache = heap.cacheRegistry().ownCache().pageCache;
            long retained = heap.stats().retainedFreeBytes();
            assertTrue(cache.enter(), "nobody else holds it");
            try {
                heap.freeAddress(a);
                HeapStats stats = heap.stats();
                assertEquals(0, stats.pageCacheBytes(), "not lent while the cache is held: " + stats);
                assertEquals(retained + 256 * KIB, stats.retainedFreeBytes(), "indexed as free pages: " + stats);
                assertEquals(0, stats.liveObjects());
                IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(a));
                assertTrue(twice.getMessage().contains(Long.toHexString(a)), twice.getMessage());
            } finally {
                cache.leave();
            }
            heap.verifyInvariants();
            long b = heap.allocateAddress(256 * KIB);
            heap.freeAddress(b);
            assertEquals(256 * KIB, heap.stats().pageCacheBytes(), "lent again once the cache is free");
            heap.verifyInvariants();
        }
    }

    /**
     * An owner whose next allocation does not fit its run (so the run goes back first, under the
     * page heap's lock), against a thread taking every run back all the while: each run goes back
     * once, whichever of the two gets it, and the heap stays exact.
     */
    @Test
    void aRunThatDoesNotFitAndATakerRacingForItGoBackOnce() throws Exception {
        try (SpanHeap heap = SpanHeap.create(config().build())) {
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread taker = Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    heap.cacheRegistry().takeBackPageCacheRuns(false);
                }
            });
            try {
                for (int i = 0; i < 200_000; i++) {
                    long whole = heap.allocateAddress(128 * KIB); // the whole run, if it is there
                    long small = heap.allocateAddress(64 * KIB);
                    heap.freeAddress(small); // stack order: a 64 KiB run
                    heap.freeAddress(whole);
                    heap.freeAddress(heap.allocateAddress(128 * KIB)); // does not fit: the run goes back first
                }
            } finally {
                done.set(true);
                taker.join();
            }
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
        }
    }

    @Test
    void pageCacheBytesIsCheckedAndZeroTurnsPageCachesOff() {
        assertThrows(IllegalArgumentException.class, () -> SpanHeapConfig.builder().pageCacheBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> SpanHeapConfig.builder().pageCacheBytes(SpanHeapConfig.MAX_PAGE_CACHE_BYTES + 1));
        assertEquals(SpanHeapConfig.DEFAULT_PAGE_CACHE_BYTES, SpanHeapConfig.builder().build().pageCacheBytes());
        assertEquals(8 * PAGE, SpanHeapConfig.builder().pageCacheBytes(8 * PAGE + 100).build().pageCacheBytes(), "whole pages");
        try (SpanHeap heap = SpanHeap.create(config().pageCacheBytes(0).build())) {
            heap.freeAddress(heap.allocateAddress(MIB));
            assertEquals(0, heap.stats().pageCacheBytes());
            assertEquals(MIB, heap.stats().retainedFreeBytes());
        }
        try (SpanHeap heap = SpanHeap.create(config().pageCacheBytes(256 * KIB).build())) {
            heap.freeAddress(heap.allocateAddress(MIB));
            assertEquals(0, heap.stats().pageCacheBytes(), "larger than the cache's runs: indexed");
            heap.freeAddress(heap.allocateAddress(200 * KIB));
            assertEquals(200 * KIB, heap.stats().pageCacheBytes());
            heap.verifyInvariants();
        }
    }

    @Test
    void atTheLimitTheRunsOfOtherThreadsAreTakenBackBeforeAnAllocationFails() throws Exception {
        try (SpanHeap heap = SpanHeap.create(config().maxHeapBytes(8 * MIB).build())) {
            CountDownLatch done = new CountDownLatch(1);
            Thread other = threadWithARun(heap, 4 * MIB, done, () -> { });
            long a = heap.allocateAddress(4 * MIB + 8 * KIB); // too long for the other thread's run
            long b = heap.allocateAddress(3 * MIB); // needs the other thread's pages under the 8 MiB limit
            heap.verifyInvariants();
            heap.freeAddress(a);
            heap.freeAddress(b);
            done.countDown();
            other.join();
            heap.verifyInvariants();
        }
    }

    /**
     * A model of one thread's large objects against a reference: random allocations (some too long
     * for a run, some aligned), frees in random and in stack order; after each step the live blocks
     * never overlap, each keeps its stamp, the statistics match the model and the invariants hold.
     */
    @Test
    void randomLargeTrafficMatchesAReferenceModel() {
        for (long seed = 1; seed <= 6; seed++) {
            SplittableRandom random = new SplittableRandom(seed);
            try (SpanHeap heap = SpanHeap.create(config().pageCacheBytes(seed % 2 == 0 ? 4 * MIB : MIB).build())) {
                TreeMap<Long, Long> live = new TreeMap<>(); // address -> size
                long requested = 0;
                for (int step = 0; step < 600; step++) {
                    int action = random.nextInt(10);
                    if (action < 5 || live.isEmpty()) {
                        long size = random.nextInt(4) == 0 ? 2 * MIB + random.nextLong(3 * MIB) : 33 * KIB + random.nextLong(MIB);
                        long address = random.nextInt(8) == 0
                                ? heap.allocate(size, 64 * KIB).address() : heap.allocateAddress(size);
                        var before = live.floorEntry(address);
                        var after = live.ceilingEntry(address);
                        assertTrue(before == null || before.getKey() + before.getValue() <= address, "seed " + seed + " step " + step
                                + ": " + Errors.hex(address) + " overlaps the block at " + (before == null ? "" : Errors.hex(before.getKey())));
                        assertTrue(after == null || address + size <= after.getKey(), "seed " + seed + " step " + step + ": overlap");
                        ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, address ^ seed);
                        ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address + size - 8, address ^ ~seed);
                        live.put(address, size);
                        requested += size;
                    } else {
                        // Mostly the newest block (stack order), sometimes any.
                        long address = action < 8 ? live.lastKey() : new ArrayList<>(live.keySet()).get(random.nextInt(live.size()));
                        long size = live.remove(address);
                        assertEquals(address ^ seed, ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address), "seed " + seed + " step " + step);
                        assertEquals(address ^ ~seed, ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address + size - 8));
                        heap.freeAddress(address);
                        requested -= size;
                    }
                    if (step % 20 == 0 || live.size() < 2) {
                        heap.verifyInvariants();
                        HeapStats stats = heap.stats();
                        assertEquals(live.size(), stats.largeObjects(), "seed " + seed + " step " + step + ": " + stats);
                        assertEquals(requested, stats.largeRequestedBytes(), "seed " + seed + " step " + step);
                        assertEquals(stats.heldBytes(), stats.spanBytes() + stats.retainedFreeBytes() + stats.pageCacheBytes());
                    }
                }
                for (long address : live.keySet()) {
                    heap.freeAddress(address);
                }
                heap.verifyInvariants();
                assertEquals(0, heap.stats().liveObjects());
            }
        }
    }

    /**
     * Hammer: four threads allocate large objects (cut from their runs or from the page heap),
     * free most of their own in stack order and hand the rest to the others. Every block keeps its
     * stamp until it is freed (no page is handed out twice), and the counts are exact afterwards.
     */
    @Test
    void fourThreadsCuttingFreeingAndHandingOverNeverHandOutAPageTwice() throws Exception {
        int threads = 4;
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().shards(2).scavengerEnabled(false).hugePages(false).build())) {
            ConcurrentLinkedQueue<long[]> handed = new ConcurrentLinkedQueue<>();
            AtomicLong allocations = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = 100 + t;
                workers.add(Thread.ofPlatform().start(() -> {
                    try {
                        SplittableRandom random = new SplittableRandom(seed);
                        List<long[]> mine = new ArrayList<>();
                        start.await();
                        for (int step = 0; step < 20_000; step++) {
                            int action = random.nextInt(11);
                            if (action < 5 || mine.isEmpty()) {
                                long size = 33 * KIB + random.nextLong(random.nextInt(6) == 0 ? 5 * MIB : 600 * KIB);
                                long address = heap.allocateAddress(size);
                                allocations.incrementAndGet();
                                ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, address * 31);
                                ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address + size - 8, address * 37);
                                mine.add(new long[] {address, size});
                            } else if (action < 9) {
                                long[] block = mine.remove(mine.size() - 1);
                                check(block);
                                heap.freeAddress(block[0]);
                            } else {
                                handed.add(mine.remove(random.nextInt(mine.size())));
                            }
                            long[] theirs = handed.poll();
                            if (theirs != null) {
                                check(theirs);
                                heap.freeAddress(theirs[0]);
                            }
                        }
                        for (long[] block : mine) {
                            check(block);
                            heap.freeAddress(block[0]);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread worker : workers) {
                worker.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("a worker failed", failure.get());
            }
            for (long[] block; (block = handed.poll()) != null; ) {
                heap.freeAddress(block[0]);
            }
            heap.verifyInvariants();
            HeapStats stats = heap.stats();
            assertEquals(0, stats.liveObjects(), stats.toString());
            assertEquals(allocations.get(), stats.totalAllocations());
            assertEquals(allocations.get(), stats.totalFrees());
            assertTrue(stats.allocationsFromPageCache() > 1000, "cuts from page caches: " + stats.allocationsFromPageCache());
            assertNotEquals(0, stats.heldBytes());
        }
    }

    /**
     * Double frees racing: in each round four threads allocate blocks (after a warm-up free, so
     * that most are cut from page caches), then, all at once, each frees its own blocks in stack
     * order (the page cache's path without a lock) and the next thread's blocks (the page heap's
     * path): every block is freed by two threads at the same time, and exactly one may succeed.
     * Nobody allocates while the frees race, so no address is reused in between.
     */
    @Test
    void twoThreadsFreeingTheSameBlocksAtOnceFreeEachExactlyOnce() throws Exception {
        int threads = 4;
        int rounds = 40;
        int blocks = 40;
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().shards(2).scavengerEnabled(false).hugePages(false).build())) {
            long[][] published = new long[threads][blocks];
            AtomicInteger wins = new AtomicInteger();
            AtomicInteger refusals = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CyclicBarrier allocated = new CyclicBarrier(threads);
            CyclicBarrier freed = new CyclicBarrier(threads, heap::verifyInvariants);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                workers.add(Thread.ofPlatform().start(() -> {
                    try {
                        SplittableRandom random = new SplittableRandom(200 + me);
                        for (int round = 0; round < rounds; round++) {
                            heap.freeAddress(heap.allocateAddress(4 * MIB - PAGE));
                            for (int i = 0; i < blocks; i++) {
                                published[me][i] = heap.allocateAddress(33 * KIB + random.nextLong(64 * KIB));
                            }
                            allocated.await();
                            long[] theirs = published[(me + 1) % threads];
                            for (int i = blocks - 1; i >= 0; i--) {
                                for (long address : new long[] {published[me][i], theirs[i]}) {
                                    try {
                                        heap.freeAddress(address);
                                        wins.incrementAndGet();
                                    } catch (IllegalArgumentException doubleFree) {
                                        refusals.incrementAndGet();
                                    }
                                }
                            }
                            freed.await();
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        allocated.reset();
                        freed.reset();
                    }
                }));
            }
            for (Thread worker : workers) {
                worker.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("a worker failed", failure.get());
            }
            assertEquals(threads * rounds * blocks, wins.get(), "each block freed once");
            assertEquals(threads * rounds * blocks, refusals.get(), "and refused once");
            heap.verifyInvariants();
            HeapStats stats = heap.stats();
            assertEquals(0, stats.liveObjects(), stats.toString());
            assertEquals(stats.totalAllocations(), stats.totalFrees());
            assertTrue(stats.allocationsFromPageCache() > threads * rounds * blocks / 2, "cut from page caches: " + stats.allocationsFromPageCache());
        }
    }

    /**
     * A platform thread that allocates and frees {@code bytes} (its page cache's run), then waits
     * for {@code done} and runs {@code after}; returned once the run is there.
     */
    private static Thread threadWithARun(SpanHeap heap, long bytes, CountDownLatch done, Runnable after) throws InterruptedException {
        CountDownLatch freed = new CountDownLatch(1);
        Thread thread = Thread.ofPlatform().start(() -> {
            heap.freeAddress(heap.allocateAddress(bytes));
            freed.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            after.run();
        });
        freed.await();
        return thread;
    }

    private static void check(long[] block) {
        assertEquals(block[0] * 31, ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, block[0]), "the block's first word was overwritten");
        assertEquals(block[0] * 37, ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, block[0] + block[1] - 8), "its last word");
    }
}
