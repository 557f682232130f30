package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Threads that die at awkward moments: with every stack of their cache full and slots of other
 * shards in their remote buffers, inside open stack frames, while being interrupted through
 * refills, and killed by an {@link OutOfMemoryError} thrown inside the allocation slow path at the
 * heap's limit. Each dies by an uncaught exception (not by returning), as a thread killed by a bug
 * would. What must hold: nothing they held leaks (their caches, remote buffers and stack chunks go
 * back once they are seen dead), and the statistics are exact at rest.
 */
class ThreadDeathTest {

    /** Thrown to kill a test thread. */
    private static final class Killed extends RuntimeException {
        Killed(String why) {
            super(why);
        }
    }

    /** Starts a platform thread that records what killed it. */
    private static Thread startDying(String name, Runnable body, AtomicReference<Throwable> death) {
        Thread thread = Thread.ofPlatform().name(name).unstarted(body);
        thread.setUncaughtExceptionHandler((t, e) -> death.set(e));
        thread.start();
        return thread;
    }

    @Test
    void threadsThatDieWithFullCachesAndRemoteBuffersLeaveNothingBehind() throws Exception {
        int threads = 4;
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name("death-full-caches").shards(2)
                .scavengerEnabled(false).build())) {
            List<List<Long>> blocks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                blocks.add(new ArrayList<>());
            }
            CyclicBarrier allocated = new CyclicBarrier(threads);
            CyclicBarrier freed = new CyclicBarrier(threads + 1);
            CyclicBarrier die = new CyclicBarrier(threads + 1);
            List<AtomicReference<Throwable>> deaths = new ArrayList<>();
            List<Thread> workers = new ArrayList<>();
            long perThread = 0;
            for (int c = 1; c < HeapProbe.classCount(); c++) {
                perThread += 3L * ThreadCache.CAPACITY[c];
            }
            for (int t = 0; t < threads; t++) {
                int me = t;
                AtomicReference<Throwable> death = new AtomicReference<>();
                deaths.add(death);
                workers.add(startDying("dies-full-" + t, () -> {
                    try {
                        // Three capacities of every class: refills, new spans, full stacks later.
                        List<Long> mine = blocks.get(me);
                        for (int c = 1; c < HeapProbe.classCount(); c++) {
                            for (int i = 0; i < 3 * ThreadCache.CAPACITY[c]; i++) {
                                long address = heap.allocateAddress(HeapProbe.slotSize(c));
                                MemorySegment.ofAddress(address).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, address);
                                mine.add(address);
                            }
                        }
                        allocated.await();
                        // Free the neighbour's blocks (another shard for odd neighbours: remote
                        // buffer) and then this thread's own: every stack ends up full.
                        for (long address : blocks.get((me + 1) % threads)) {
                            heap.freeAddress(address);
                        }
                        freed.await();
                        die.await();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    throw new Killed("dies with a full cache");
                }, death));
            }
            freed.await();
            // The workers wait at the barrier: their counters are still, so the snapshot is exact.
            HeapStats beforeDeath = heap.stats();
            assertEquals(threads * perThread, beforeDeath.totalAllocations(), beforeDeath::toString);
            assertEquals(threads * perThread, beforeDeath.totalFrees(), beforeDeath::toString);
            assertEquals(0, beforeDeath.liveObjects(), beforeDeath::toString);
            assertTrue(beforeDeath.cachedBytes() > threads * (ThreadCache.MAX_CACHED_BYTES / 4),
                    "the caches are full before the threads die: " + beforeDeath.cachedBytes());
            die.await();
            for (int t = 0; t < threads; t++) {
                workers.get(t).join();
                assertInstanceOf(Killed.class, deaths.get(t).get());
            }
            HeapStats afterDeath = heap.stats();
            assertEquals(0, afterDeath.cachedBytes(), "the dead threads' caches and remote buffers went back: " + afterDeath);
            assertEquals(threads * perThread, afterDeath.totalAllocations(), "counts of dead threads are kept");
            assertEquals(threads * perThread, afterDeath.totalFrees());
            assertEquals(0, afterDeath.liveObjects());
            assertEquals(0, afterDeath.doubleFreesDetected());
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }

    @Test
    void threadsThatDieInsideStackFramesGiveTheirChunksAndFallbacksBack() throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name("death-in-frames").scavengerEnabled(false).build())) {
            List<Thread> workers = new ArrayList<>();
            List<AtomicReference<Throwable>> deaths = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                AtomicReference<Throwable> death = new AtomicReference<>();
                deaths.add(death);
                Runnable body = () -> {
                    Arena outer = heap.newConfinedArena();
                    outer.allocate(5_000);
                    Arena middle = heap.newConfinedArena();
                    middle.allocate(12_000); // past the first 8 KiB chunk: the stack grows
                    middle.allocate(100_000); // a heap fallback, freed with its frame
                    Arena inner = heap.newConfinedArena();
                    inner.allocate(3_000, 4096);
                    outer.close(); // closed out of order, not yet popped
                    throw new Killed("dies with " + inner + " and " + middle + " open");
                };
                Thread thread = t % 2 == 0 ? startDying("dies-in-frames-" + t, body, death) : Thread.ofVirtual().unstarted(body);
                if (thread.isVirtual()) {
                    thread.setUncaughtExceptionHandler((x, e) -> death.set(e));
                    thread.start();
                }
                workers.add(thread);
            }
            for (int t = 0; t < workers.size(); t++) {
                workers.get(t).join();
                assertInstanceOf(Killed.class, deaths.get(t).get());
            }
            heap.flushReachableCaches();
            HeapStats stats = heap.stats();
            assertEquals(0, stats.stack().threadStacks(), "stacks of dead threads are reclaimed: " + stats.stack());
            assertEquals(0, stats.stack().openFrames(), "their open frames went with them");
            assertEquals(0, stats.stack().bytesInUse());
            assertEquals(12, stats.stack().framesOpened(), "counters of dead threads are kept");
            assertEquals(4, stats.stack().fallbackAllocations());
            assertEquals(4, stats.stack().outOfOrderCloses());
            assertEquals(0, stats.liveObjects(), "chunks and fallbacks went back: " + stats);
            assertEquals(stats.totalAllocations(), stats.totalFrees());
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }

    @Test
    void aThreadInterruptedThroughItsRefillsKeepsAllocatingAndCountsExactly() throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name("death-interrupted").scavengerEnabled(false).build())) {
            int rounds = 40;
            int perRound = 2_000;
            long[] sizes = {8, 48, 640, 4096, 20_000, 32_768, 100_000, 1 << 20};
            AtomicReference<Throwable> death = new AtomicReference<>();
            long[] interruptedAtEnd = {0};
            Thread worker = startDying("interrupted", () -> {
                long[] live = new long[perRound];
                for (int round = 0; round < rounds; round++) {
                    Thread.currentThread().interrupt();
                    for (int i = 0; i < perRound; i++) {
                        live[i] = heap.allocateAddress(sizes[(i + round) % sizes.length]);
                    }
                    // Free in another order than allocated, then hand back everything cached:
                    // the next round refills from the central lists and the page heap again.
                    for (int i = perRound - 1; i >= 0; i--) {
                        heap.freeAddress(live[i]);
                    }
                    heap.flushCurrentThreadCache();
                    heap.releaseFreeMemory();
                }
                interruptedAtEnd[0] = Thread.currentThread().isInterrupted() ? 1 : 0;
                throw new Killed("dies after " + rounds * perRound + " allocations under interrupts");
            }, death);
            Thread interrupter = Thread.ofPlatform().start(() -> {
                while (worker.isAlive()) {
                    worker.interrupt();
                    Thread.onSpinWait();
                }
            });
            worker.join();
            interrupter.join();
            assertInstanceOf(Killed.class, death.get(), () -> "the worker failed: " + death.get());
            assertEquals(1, interruptedAtEnd[0], "the heap neither throws on nor clears the interrupt status");
            HeapStats stats = heap.stats();
            assertEquals((long) rounds * perRound, stats.totalAllocations(), stats::toString);
            assertEquals((long) rounds * perRound, stats.totalFrees(), stats::toString);
            assertEquals(0, stats.liveObjects());
            assertEquals(0, stats.cachedBytes());
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }

    @Test
    void aThreadKilledByAnOutOfMemoryErrorInsideARefillLeaksNothing() throws Exception {
        long limit = 16L << 20;
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name("death-oom").maxHeapBytes(limit)
                .scavengerEnabled(false).build())) {
            ConcurrentLinkedQueue<Long> allocated = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> death = new AtomicReference<>();
            // 1 KiB slots: the cache refills eight at a time and the list takes a new span per
            // eight refills, so the limit is met inside a refill, in the slow path.
            Thread worker = startDying("dies-of-oom", () -> {
                while (true) {
                    allocated.add(heap.allocateAddress(1024));
                }
            }, death);
            worker.join();
            OutOfMemoryError oom = assertInstanceOf(OutOfMemoryError.class, death.get());
            assertTrue(oom.getMessage().contains("maxHeapBytes " + limit), oom.getMessage());
            assertTrue(Arrays.stream(oom.getStackTrace()).anyMatch(f -> f.getMethodName().equals("refill")),
                    "thrown inside a refill: " + Arrays.toString(oom.getStackTrace()));
            HeapStats dead = heap.stats();
            assertEquals(allocated.size(), dead.liveObjects(), "every block handed out before the error is live, no other");
            assertEquals(allocated.size(), dead.totalAllocations());
            assertEquals(0, dead.totalFrees());
            assertEquals(0, dead.cachedBytes(), "the dead thread's cache went back");
            assertTrue(dead.heldBytes() <= limit, dead::toString);
            HeapProbe.verify(heap);
            for (long address : allocated) {
                heap.freeAddress(address);
            }
            heap.flushCurrentThreadCache();
            HeapStats freed = heap.stats();
            assertEquals(0, freed.liveObjects());
            assertEquals(allocated.size(), freed.totalFrees());
            HeapProbe.assertEmptyAfterFlush(heap);
            // And the heap is usable up to its limit again.
            heap.free(heap.allocate(limit / 2));
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }
}
