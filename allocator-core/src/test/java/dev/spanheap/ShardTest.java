package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * Shards: threads bound to the least-used shard, spans and large objects from the thread's own
 * page heap, frees going home to the shard that owns the block (remote frees through the
 * buffer), borrowing from another page heap when the range is full; and a hammer test of blocks
 * crossing shards all the time.
 */
class ShardTest {

    private static SpanHeap heap(int shards, long addressSpace) {
        return SpanHeap.create(SpanHeapConfig.builder().shards(shards).addressSpaceBytes(addressSpace)
                .scavengerEnabled(false).build());
    }

    /** Runs {@code body} on a new platform thread and rethrows what it threw. */
    private static void onAnotherThread(ThrowingRunnable body) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        if (failure.get() != null) {
            throw new AssertionError("the other thread failed", failure.get());
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static int shardOfSpan(SpanHeap heap, long address) {
        return heap.addressRange().spanAt(address).listShard;
    }

    @Test
    void liveThreadsAreSpreadOverTheShardsAndTheSecondTakesTheFirstsFreeRunsBeforeMappingAnArena() throws Exception {
        try (SpanHeap heap = heap(2, 8L << 26)) {
            long mine = heap.allocateAddress(64);
            long mineLarge = heap.allocateAddress(100_000);
            long[] theirs = new long[2];
            CyclicBarrier bothAllocated = new CyclicBarrier(2);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    theirs[0] = heap.allocateAddress(64);
                    theirs[1] = heap.allocateAddress(100_000);
                    bothAllocated.await();
                    bothAllocated.await(); // stay alive (and bound to the shard) until checked
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            bothAllocated.await();
            int myShard = shardOfSpan(heap, mine);
            assertNotEquals(myShard, shardOfSpan(heap, theirs[0]), "two live threads, two shards");
            assertSame(heap.pageHeaps()[myShard], heap.addressRange().arenaAt(mineLarge).owner, "large objects from the thread's page heap");
            // The other shard's page heap had no arena and this one's lock was free: its span and
            // its large object come from this heap's free runs, and no second arena is mapped.
            assertSame(heap.pageHeaps()[myShard], heap.addressRange().arenaAt(theirs[0]).owner);
            assertSame(heap.pageHeaps()[myShard], heap.addressRange().arenaAt(theirs[1]).owner);
            assertEquals(HeapArena.BYTES, heap.stats().reservedBytes());
            bothAllocated.await();
            other.join();
            assertNull(failure.get());
            heap.freeAddress(mine);
            heap.freeAddress(mineLarge);
            heap.freeAddress(theirs[0]);
            heap.freeAddress(theirs[1]);
            heap.flushReachableCaches();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
        }
    }

    @Test
    void aSlotFreedOnAnotherShardGoesHomeInsteadOfIntoTheFreeingThreadsNextAllocation() throws Exception {
        try (SpanHeap heap = heap(2, 8L << 26)) {
            long keep = heap.allocateAddress(48); // this thread's shard, registered first
            long[] handedOver = new long[16];
            for (int i = 0; i < handedOver.length; i++) {
                handedOver[i] = heap.allocateAddress(48);
            }
            int home = shardOfSpan(heap, keep);
            CyclicBarrier step = new CyclicBarrier(2);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    heap.allocateAddress(8); // bind this thread to the other shard before it frees
                    for (long a : handedOver) {
                        heap.freeAddress(a);
                    }
                    for (int i = 0; i < handedOver.length; i++) {
                        long again = heap.allocateAddress(48);
                        for (long a : handedOver) {
                            assertNotEquals(a, again, "a remote free must not become the freeing thread's next allocation");
                        }
                        assertNotEquals(home, shardOfSpan(heap, again));
                    }
                    step.await(); // the remote buffer still holds the slots: counted as cached, not live
                    step.await();
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            step.await();
            HeapStats whileBuffered = heap.stats();
            assertEquals(1 + 1 + handedOver.length, whileBuffered.liveObjects(), "keep, the 8-byte block, and the 16 new ones");
            heap.verifyInvariants();
            step.await();
            other.join();
            assertNull(failure.get());
            heap.reclaimDeadCaches(); // flushes the ended thread's remote buffer home
            heap.verifyInvariants();
            heap.flushCurrentThreadCache();
            // The handed-over slots are free in their spans on this thread's shard again.
            for (long a : handedOver) {
                Span span = heap.addressRange().spanAt(a);
                assertNotNull(span);
                assertEquals(home, span.listShard);
                assertTrue(!span.isAllocated(span.slotOf(a)), "slot " + Long.toHexString(a) + " went home");
            }
            heap.freeAddress(keep);
        }
    }

    @Test
    void aSlotOfAnotherShardThatFillsWholeCacheLinesIsReusedByTheFreeingThread() throws Exception {
        try (SpanHeap heap = heap(2, 8L << 26)) {
            long keep = heap.allocateAddress(8);
            long lineSized = heap.allocateAddress(64); // 64-byte slots fill whole lines: no false sharing
            onAnotherThread(() -> {
                heap.allocateAddress(8); // bind this thread to the other shard
                heap.freeAddress(lineSized);
                assertEquals(lineSized, heap.allocateAddress(64), "pushed on the freeing thread's own stack, reused at once");
                heap.freeAddress(lineSized);
            });
            heap.reclaimDeadCaches();
            heap.verifyInvariants();
            heap.freeAddress(keep);
        }
    }

    @Test
    void aLargeObjectFreedByAnotherThreadGoesBackToItsOwnPageHeap() throws Exception {
        try (SpanHeap heap = heap(2, 8L << 26)) {
            heap.allocateAddress(8); // bind this thread first
            long large = heap.allocateAddress(1 << 20);
            PageHeap owner = heap.addressRange().arenaAt(large).owner;
            long heldBefore = owner.snapshot().largeObjectBytes();
            onAnotherThread(() -> {
                heap.allocateAddress(8);
                heap.freeAddress(large);
                assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(large), "a double free of a large object is caught on any shard");
            });
            assertEquals(heldBefore - (1 << 20), owner.snapshot().largeObjectBytes());
            heap.verifyInvariants();
        }
    }

    @Test
    void aFullRangeIsSharedByBorrowingFreeRunsOfAnotherShard() throws Exception {
        try (SpanHeap heap = heap(2, 1L << 26)) {
            long mine = heap.allocateAddress(1000);
            onAnotherThread(() -> {
                long theirs = heap.allocateAddress(1000);
                long theirsLarge = heap.allocateAddress(1 << 20);
                assertEquals(1, heap.addressRange().arenaCount, "one arena in the whole range");
                assertNotEquals(shardOfSpan(heap, mine), shardOfSpan(heap, theirs), "a borrowed span still belongs to the borrower's lists");
                heap.freeAddress(theirs);
                heap.freeAddress(theirsLarge);
            });
            heap.reclaimDeadCaches();
            heap.verifyInvariants();
            heap.freeAddress(mine);
            heap.flushReachableCaches();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().spanBytes());
        }
    }

    @Test
    void virtualThreadsShareCachesByCpuAndLoseNothing() throws Exception {
        try (SpanHeap heap = heap(2, 8L << 26)) {
            List<Thread> threads = new ArrayList<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int t = 0; t < 200; t++) {
                int seed = t;
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        SplittableRandom random = new SplittableRandom(seed);
                        long[] blocks = new long[32];
                        for (int i = 0; i < blocks.length; i++) {
                            blocks[i] = heap.allocateAddress(random.nextInt(1, 5000));
                            AllMemory.SEGMENT.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, blocks[i], blocks[i]);
                        }
                        for (long b : blocks) {
                            assertEquals(b, AllMemory.SEGMENT.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, b));
                            heap.freeAddress(b);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertNull(failure.get());
            HeapStats stats = heap.stats();
            assertEquals(0, stats.liveObjects());
            assertEquals(200 * 32, stats.totalAllocations());
            assertEquals(200 * 32, stats.totalFrees());
            heap.verifyInvariants();
        }
    }

    /**
     * Hammer: four threads on two shards, each allocating blocks of random sizes (small, and now
     * and then large) and handing every block to its neighbour to check and free, so that nearly
     * every free crosses a shard, through the remote buffers and the routing of batches.
     */
    @Test
    void blocksCrossingShardsAllTheTimeKeepEveryCountExact() throws Exception {
        try (SpanHeap heap = heap(2, 16L << 26)) {
            int threads = 4;
            int rounds = 20_000;
            List<ConcurrentLinkedQueue<long[]>> mailboxes = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                mailboxes.add(new ConcurrentLinkedQueue<>());
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int me = t;
                workers.add(Thread.ofPlatform().start(() -> {
                    try {
                        SplittableRandom random = new SplittableRandom(me);
                        ConcurrentLinkedQueue<long[]> inbox = mailboxes.get(me);
                        ConcurrentLinkedQueue<long[]> neighbour = mailboxes.get((me + 1) % threads);
                        for (int round = 0; round < rounds && failure.get() == null; round++) {
                            long size = random.nextInt(100) == 0 ? random.nextInt(33 << 10, 300 << 10) : random.nextInt(1, 2048);
                            long block = heap.allocateAddress(size);
                            AllMemory.SEGMENT.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, block, block ^ me);
                            neighbour.add(new long[] {block, me});
                            long[] received;
                            while ((received = inbox.poll()) != null) {
                                checkAndFree(heap, received);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread w : workers) {
                w.join();
            }
            assertNull(failure.get());
            for (ConcurrentLinkedQueue<long[]> left : mailboxes) {
                long[] parcel;
                while ((parcel = left.poll()) != null) {
                    checkAndFree(heap, parcel);
                }
            }
            heap.flushReachableCaches();
            heap.verifyInvariants();
            HeapStats stats = heap.stats();
            assertEquals(0, stats.liveObjects(), () -> "live objects left: " + stats);
            assertEquals(stats.totalAllocations(), stats.totalFrees());
            assertEquals((long) threads * rounds, stats.totalAllocations());
            assertEquals(0, stats.doubleFreesDetected());
        }
    }

    /**
     * Threads that find their page heap without room at the same moment map one arena between
     * them, not one each: the stress test once reserved 7 arenas for a 24 MB live set, because
     * every thread that started on an empty page heap mapped its own while the first one's mmap
     * ran without the lock.
     */
    @Test
    void threadsThatFindNoRoomTogetherMapOneArena() throws Exception {
        int threads = 8;
        for (int trial = 0; trial < 30; trial++) {
            try (SpanHeap heap = heap(1, 8L << 26)) {
                CyclicBarrier start = new CyclicBarrier(threads);
                ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
                List<Thread> started = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long size = (t & 1) == 0 ? 64 : 100_000;
                    started.add(Thread.ofPlatform().start(() -> {
                        try {
                            start.await();
                            heap.freeAddress(heap.allocateAddress(size));
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }));
                }
                for (Thread t : started) {
                    t.join();
                }
                assertTrue(failures.isEmpty(), () -> "a thread failed: " + failures.peek());
                int currentTrial = trial;
                assertEquals(1, heap.stats().arenaReservations(),
                        () -> "trial " + currentTrial + ": " + threads + " threads starting together on one page heap mapped "
                                + heap.stats().arenaReservations() + " arenas");
                heap.verifyInvariants();
            }
        }
    }

    private static void checkAndFree(SpanHeap heap, long[] parcel) {
        long block = parcel[0];
        long value = AllMemory.SEGMENT.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, block);
        if (value != (block ^ parcel[1])) {
            throw new AssertionError("block " + Long.toHexString(block) + " holds " + Long.toHexString(value));
        }
        heap.freeAddress(block);
    }

    /** All of memory as one segment, to check blocks by raw address. */
    @SuppressWarnings("restricted")
    static final class AllMemory {
        static final java.lang.foreign.MemorySegment SEGMENT = java.lang.foreign.MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    }
}
