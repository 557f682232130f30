package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The per-thread cache of freed large runs: reuse without the page heap, the fit rule, the
 * bounds, exact statistics with runs cached, double frees caught however the first free went
 * (also two frees racing), and runs given back when the cache is flushed or its thread ends.
 */
class LargeRunCacheTest {

    private static final long PAGE = SizeClasses.PAGE_SIZE;

    private static SpanHeap heap(int shards) {
        return SpanHeap.create(SpanHeapConfig.builder().shards(shards).addressSpaceBytes(8L << 26)
                .scavengerEnabled(false).build());
    }

    @Test
    void aFreedLargeObjectServesTheNextOfAboutItsSizeWithoutThePageHeap() {
        try (SpanHeap heap = heap(1)) {
            MemorySegment first = heap.allocate(20 * PAGE, 8);
            first.fill((byte) 0x5A);
            long fromPageHeap = heap.stats().allocationsFromPageHeap();
            heap.free(first);
            assertEquals(20 * PAGE, heap.stats().cachedBytes(), "the run is cached");
            assertEquals(0, heap.stats().largeObjects());
            MemorySegment second = heap.allocate(19 * PAGE + 1, 8); // 20 pages: the same run
            assertEquals(first.address(), second.address(), "the cached run is reused");
            assertEquals(fromPageHeap, heap.stats().allocationsFromPageHeap(), "without the page heap");
            for (long i = 0; i + 8 <= second.byteSize(); i += 8) {
                assertEquals(0, second.get(ValueLayout.JAVA_LONG_UNALIGNED, i), "a reused run is zeroed at " + i);
            }
            HeapStats stats = heap.stats();
            assertEquals(1, stats.largeObjects());
            assertEquals(19 * PAGE + 1, stats.largeRequestedBytes(), "the new object's requested size");
            assertEquals(20 * PAGE, stats.largeObjectBytes());
            assertEquals(2, stats.totalAllocations());
            assertEquals(1, stats.totalFrees());
            heap.free(second);
            heap.flushCurrentThreadCache();
            heap.verifyInvariants();
            stats = heap.stats();
            assertEquals(0, stats.liveObjects());
            assertEquals(0, stats.largeRequestedBytes());
            assertEquals(0, stats.spanBytes(), "the flush gave the run back to the page heap");
            assertEquals(2, stats.totalFrees());
        }
    }

    @Test
    void aRunIsTakenOnlyByRequestsItFitsWithinAQuarter() {
        try (SpanHeap heap = heap(1)) {
            long run = heap.allocateAddress(20 * PAGE);
            heap.freeAddress(run);
            long bigger = heap.allocateAddress(21 * PAGE);
            assertNotEquals(run, bigger, "a run is never taken for more pages than it has");
            long muchSmaller = heap.allocateAddress(15 * PAGE); // 20 > 15 + 15/4
            assertNotEquals(run, muchSmaller, "nor for a request it would waste more than a quarter of");
            long aligned = heap.allocate(16 * PAGE, 16 * PAGE).address();
            assertNotEquals(run, aligned, "nor for an alignment above a page");
            long fits = heap.allocateAddress(16 * PAGE); // 20 <= 16 + 4
            assertEquals(run, fits);
            for (long a : new long[] {bigger, muchSmaller, aligned, fits}) {
                heap.freeAddress(a);
            }
            heap.flushCurrentThreadCache();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().spanBytes());
        }
    }

    @Test
    void theCacheStaysWithinItsBoundsAndTheStatisticsStayExact() {
        try (SpanHeap heap = heap(1)) {
            List<Long> blocks = new ArrayList<>();
            long requested = 0;
            for (int i = 0; i < 40; i++) {
                long size = (5 + i % 40) * PAGE - i; // 5 to 44 pages: some too long to cache
                requested += size;
                blocks.add(heap.allocateAddress(size));
            }
            HeapStats live = heap.stats();
            assertEquals(40, live.largeObjects());
            assertEquals(requested, live.largeRequestedBytes());
            for (long block : blocks) {
                heap.freeAddress(block);
                HeapStats stats = heap.stats();
                assertTrue(stats.cachedBytes() <= LargeRunCache.MAX_BYTES, "cached " + stats.cachedBytes());
            }
            HeapStats stats = heap.stats();
            assertEquals(0, stats.largeObjects());
            assertEquals(0, stats.largeObjectBytes());
            assertEquals(0, stats.largeRequestedBytes());
            assertEquals(40, stats.totalAllocations());
            assertEquals(40, stats.totalFrees());
            assertTrue(stats.cachedBytes() > 0, "the last runs freed are cached");
            heap.verifyInvariants();
            // Reuse them in another order and sizes, then check again.
            List<Long> again = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                again.add(heap.allocateAddress((5 + (i * 7) % 28) * PAGE));
            }
            assertEquals(40, heap.stats().largeObjects());
            again.forEach(heap::freeAddress);
            heap.flushCurrentThreadCache();
            heap.verifyInvariants();
            stats = heap.stats();
            assertEquals(0, stats.liveObjects());
            assertEquals(0, stats.spanBytes());
            assertEquals(80, stats.totalAllocations());
            assertEquals(80, stats.totalFrees());
        }
    }

    @Test
    void aSecondFreeOfACachedObjectIsCaughtFromAnyThread() throws Exception {
        try (SpanHeap heap = heap(1)) {
            long block = heap.allocateAddress(10 * PAGE);
            heap.freeAddress(block);
            IllegalArgumentException same = assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(block));
            assertTrue(same.getMessage().contains("free pages"), same.getMessage());
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread.ofPlatform().start(() -> {
                try {
                    heap.freeAddress(block);
                } catch (Throwable e) {
                    other.set(e);
                }
            }).join();
            assertTrue(other.get() instanceof IllegalArgumentException, "from another thread: " + other.get());
            // The run was handed out once only.
            long a = heap.allocateAddress(10 * PAGE);
            long b = heap.allocateAddress(10 * PAGE);
            assertNotEquals(a, b);
            heap.freeAddress(a);
            heap.freeAddress(b);
            heap.flushCurrentThreadCache();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
        }
    }

    /** Two threads free the same large object at once, many times: exactly one free succeeds each time. */
    @Test
    void twoFreesRacingForOneObjectLetExactlyOneThrough() throws Exception {
        try (SpanHeap heap = heap(1)) {
            int rounds = 300;
            CyclicBarrier start = new CyclicBarrier(3); // the two racers and this thread
            AtomicReference<long[]> current = new AtomicReference<>();
            AtomicInteger succeeded = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            Runnable racer = () -> {
                try {
                    for (int r = 0; r < rounds; r++) {
                        start.await();
                        try {
                            heap.freeAddress(current.get()[0]);
                            succeeded.incrementAndGet();
                        } catch (IllegalArgumentException expected) {
                            refused.incrementAndGet();
                        }
                        start.await();
                    }
                } catch (Throwable e) {
                    unexpected.set(e);
                }
            };
            Thread one = Thread.ofPlatform().start(racer);
            Thread two = Thread.ofPlatform().start(racer);
            Set<Long> live = new HashSet<>();
            try {
                for (int r = 0; r < rounds && unexpected.get() == null; r++) {
                    current.set(new long[] {heap.allocateAddress((5 + r % 20) * PAGE)});
                    start.await(); // both free it
                    start.await(); // both done
                    int round = r;
                    assertEquals(r + 1, succeeded.get(), () -> "round " + round + ": one free succeeded; unexpected: " + unexpected.get());
                    assertEquals(r + 1, refused.get(), "round " + r + ": the other was refused");
                }
            } finally {
                one.join();
                two.join();
            }
            assertEquals(null, unexpected.get());
            // No run was handed out twice: allocate many, all distinct.
            for (int i = 0; i < 100; i++) {
                assertTrue(live.add(heap.allocateAddress((5 + i % 20) * PAGE)), "an address handed out twice");
            }
            live.forEach(heap::freeAddress);
            heap.flushReachableCaches();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
            assertEquals(rounds + 100, heap.stats().totalFrees());
        }
    }

    @Test
    void runsOfAnotherShardGoToThePageHeapAndAnEndedThreadsRunsComeBack() throws Exception {
        try (SpanHeap heap = heap(2)) {
            long mine = heap.allocateAddress(12 * PAGE);
            CyclicBarrier bothAlive = new CyclicBarrier(2);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    bothAlive.await();
                    heap.freeAddress(mine); // the main thread's shard: not cached here
                    assertEquals(0, heap.stats().cachedBytes(), "another shard's run is not cached");
                    heap.freeAddress(heap.allocateAddress(12 * PAGE)); // its own: cached, then the thread ends
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            bothAlive.await();
            other.join();
            assertEquals(null, failure.get());
            HeapStats stats = heap.stats(); // reclaims the ended thread's cache
            assertEquals(0, stats.liveObjects());
            assertEquals(0, stats.cachedBytes(), "the ended thread's runs went back");
            assertEquals(2, stats.totalAllocations());
            assertEquals(2, stats.totalFrees());
            heap.verifyInvariants();
            assertEquals(0, stats.spanBytes());
        }
    }
}
