package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Thread caches: bounded per class and per cache, refilled and drained in batches, reclaimed when threads end. */
class ThreadCacheTest {

    private static SpanHeap heap() {
        return SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(4L << 26).scavengerEnabled(false).build());
    }

    @Test
    void capacitiesBoundEveryClassAndTheWholeCache() {
        long total = 0;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            int capacity = ThreadCache.CAPACITY[c];
            assertTrue(capacity >= 4 && capacity <= 64, "class " + c + " capacity " + capacity);
            total += (long) capacity * SizeClasses.SLOT_SIZE[c];
        }
        assertEquals(total + ThreadCache.REMOTE_MAX_BYTES + LargeRunCache.MAX_BYTES, ThreadCache.MAX_CACHED_BYTES,
                "the stacks' bound plus the remote buffer's and the large runs'");
        assertTrue(ThreadCache.MAX_CACHED_BYTES < 5L << 20, "a cache holds at most " + ThreadCache.MAX_CACHED_BYTES);
    }

    @Test
    void freesBeyondTheCapacityFlowBackToTheCentralList() {
        try (SpanHeap heap = heap()) {
            int sizeClass = SizeClasses.classOf(64);
            List<Long> addresses = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                addresses.add(heap.allocateAddress(64));
            }
            for (long a : addresses) {
                heap.freeAddress(a);
            }
            HeapStats stats = heap.stats();
            assertEquals(0, stats.liveObjects());
            assertTrue(stats.cachedBytes() <= (long) ThreadCache.CAPACITY[sizeClass] * 64, "cached " + stats.cachedBytes());
            heap.verifyInvariants();
            heap.flushCurrentThreadCache();
            heap.verifyInvariants();
            long sparesBound = (long) ThreadCache.CAPACITY[sizeClass] * 64 + SizeClasses.SPAN_PAGES[sizeClass] * 8192L;
            // In the clock tick in which the class took new spans, the spans that empty stay.
            assertTrue(heap.stats().spanBytes() >= 1000 * 64, "spans kept while the class grows: " + heap.stats().spanBytes());
            // After a tick without new spans, the next batch that comes back leaves only the spares.
            heap.addressRange().refreshCoarseClock();
            long newSpanRefills = heap.stats().allocationsFromNewSpan();
            List<Long> again = new ArrayList<>();
            for (int i = 0; i < 2 * ThreadCache.CAPACITY[sizeClass]; i++) {
                again.add(heap.allocateAddress(64));
            }
            again.forEach(heap::freeAddress);
            heap.flushCurrentThreadCache();
            heap.verifyInvariants();
            assertEquals(newSpanRefills, heap.stats().allocationsFromNewSpan(), "the second round took no new span");
            assertTrue(heap.stats().spanBytes() <= sparesBound, "only the class's spare spans are kept: " + heap.stats().spanBytes());
            heap.flushReachableCaches();
            assertEquals(0, heap.stats().spanBytes(), "every span went back to the page heap");
        }
    }

    @Test
    void pathCountersShowCacheCentralAndNewSpans() {
        try (SpanHeap heap = heap()) {
            long first = heap.allocateAddress(128);
            HeapStats afterFirst = heap.stats();
            assertEquals(1, afterFirst.allocationsFromNewSpan());
            assertEquals(1, afterFirst.arenaReservations());
            long second = heap.allocateAddress(128);
            HeapStats afterSecond = heap.stats();
            assertEquals(1, afterSecond.allocationsFromCache(), "the refill brought a batch: the second came from the cache");
            assertNotEquals(first, second);
            heap.freeAddress(first);
            heap.freeAddress(second);
            HeapStats end = heap.stats();
            assertEquals(2, end.totalAllocations());
            assertEquals(2, end.totalFrees());
            heap.verifyInvariants();
        }
    }

    @Test
    void theCacheOfAnEndedThreadIsGivenBack() throws InterruptedException {
        try (SpanHeap heap = heap()) {
            long[] fromOtherThread = new long[1];
            Thread t = Thread.ofPlatform().start(() -> {
                fromOtherThread[0] = heap.allocateAddress(256);
                heap.freeAddress(heap.allocateAddress(512));
            });
            t.join();
            heap.reclaimDeadCaches();
            HeapStats stats = heap.stats();
            assertEquals(1, stats.liveObjects());
            assertEquals(0, stats.cachedBytes(), "the ended thread's cached slots went back");
            heap.freeAddress(fromOtherThread[0]);
            heap.flushReachableCaches();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().spanBytes());
        }
    }

    @Test
    void virtualThreadsShareABoundedSetOfCaches() throws InterruptedException {
        try (SpanHeap heap = heap()) {
            int before = (int) heap.stats().threadCaches();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                threads.add(Thread.ofVirtual().start(() -> heap.freeAddress(heap.allocateAddress(32))));
            }
            for (Thread t : threads) {
                t.join();
            }
            HeapStats stats = heap.stats();
            assertEquals(before, stats.threadCaches(), "no cache per virtual thread");
            assertEquals(2000, stats.totalAllocations());
            assertEquals(2000, stats.totalFrees());
            heap.flushReachableCaches();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
        }
    }
    /**
     * A virtual thread frees slots of every shard and class, and a large object, into its CPU's
     * shared cache (through the slow path, whose checks still refuse an interior address); at
     * rest everything is back and the counts are exact.
     */
    @Test
    void virtualThreadsFreeSlotsOfEveryShardAndClass() throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().shards(2).addressSpaceBytes(4L << 26)
                .scavengerEnabled(false).build())) {
            List<Long> blocks = java.util.Collections.synchronizedList(new ArrayList<>());
            java.util.Set<Integer> shards = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.concurrent.CyclicBarrier bothAlive = new java.util.concurrent.CyclicBarrier(2);
            List<Thread> platform = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                platform.add(Thread.ofPlatform().start(() -> {
                    try {
                        bothAlive.await(); // both live at once, so they are bound to different shards
                        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                            for (int i = 0; i < 3; i++) {
                                long address = heap.allocateAddress(SizeClasses.SLOT_SIZE[c]);
                                shards.add(heap.addressRange().spanAt(address).listShard);
                                blocks.add(address);
                            }
                        }
                        blocks.add(heap.allocateAddress(40_000));
                        bothAlive.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (Thread t : platform) {
                t.join();
            }
            assertEquals(java.util.Set.of(0, 1), shards, "the blocks come from both shards");
            long interior = blocks.get(blocks.size() - 2) + 8;
            java.util.concurrent.atomic.AtomicReference<Throwable> refused = new java.util.concurrent.atomic.AtomicReference<>();
            Thread.ofVirtual().start(() -> {
                try {
                    heap.freeAddress(interior);
                } catch (Throwable e) {
                    refused.set(e);
                }
                blocks.forEach(heap::freeAddress);
            }).join();
            assertTrue(refused.get() instanceof IllegalArgumentException, () -> "an interior free is refused: " + refused.get());
            HeapStats stats = heap.stats();
            assertEquals(blocks.size(), stats.totalAllocations());
            assertEquals(blocks.size(), stats.totalFrees());
            heap.flushReachableCaches();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
            assertEquals(0, heap.stats().spanBytes(), "every span went back to the page heap");
        }
    }
}
