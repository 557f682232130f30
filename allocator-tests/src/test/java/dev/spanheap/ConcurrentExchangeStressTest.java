package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Concurrency stress: platform and virtual threads allocate, write, hand blocks to each other and
 * free them, while threads start and end. What must hold afterwards: every block arrived intact,
 * nothing leaked once the ended threads' caches are reclaimed, the heap's invariants hold, the
 * caches never held more than their bound, and held memory stayed within a stated multiple of the
 * live set (a heap that keeps growing under a steady live set is a leak in all but name).
 */
class ConcurrentExchangeStressTest {

    /** Held memory may be at most this multiple of the peak live bytes, plus what the caches may hold, plus slack. */
    static final double HELD_PER_LIVE_BOUND = 2.0;
    static final long SLACK_BYTES = 8L << 20;

    private static SpanHeapConfig config(String name) {
        return SpanHeapConfig.builder().name(name).addressSpaceBytes(4L << 30).scavengerDelay(java.time.Duration.ofMillis(50)).build();
    }

    /**
     * larson-style random exchange: blocks land in random slots of a shared array and are freed by
     * whichever thread replaces them; platform threads come and go in waves while many virtual
     * threads run alongside, so caches of ended threads must be reclaimed.
     */
    @Test
    void randomExchangeBetweenThreadsThatComeAndGoLosesNothing() throws Exception {
        try (SpanHeap heap = SpanHeap.create(config("stress-larson"))) {
            ExchangeWorkload work = new ExchangeWorkload(heap, 4096, 256 * 1024);
            Monitor monitor = new Monitor(work);
            monitor.start();
            List<Thread> virtuals = new ArrayList<>();
            for (int v = 0; v < 200; v++) {
                long seed = 1000 + v;
                virtuals.add(Thread.ofVirtual().start(work.guarded(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    for (int i = 0; i < 1500 && !work.stop; i++) {
                        work.exchange(random);
                        if (i % 64 == 0) {
                            // A short timed park, not Thread.yield(): a yielding virtual thread goes back on its
                            // carrier's local queue while that queue has tasks, so a few yielders can run forever
                            // while a virtual thread unparked by a platform thread (a lock handed to it) waits in
                            // the scheduler's external queue: the 1 h soak's stall (docs/testing.md).
                            LockSupport.parkNanos(1_000);
                        }
                    }
                })));
            }
            int platformThreads = 0;
            for (int wave = 0; wave < 6 && !work.stop; wave++) {
                List<Thread> waveThreads = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    long seed = wave * 100 + t;
                    waveThreads.add(Thread.ofPlatform().name("larson-" + wave + "-" + t).start(work.guarded(() -> {
                        SplittableRandom random = new SplittableRandom(seed);
                        for (int i = 0; i < 25_000 && !work.stop; i++) {
                            work.exchange(random);
                        }
                    })));
                    platformThreads++;
                }
                for (Thread t : waveThreads) {
                    t.join();
                }
            }
            for (Thread v : virtuals) {
                v.join();
            }
            monitor.stopAndJoin();
            assertNoFailures(work);
            long cachedAtRest = heap.stats().cachedBytes();
            work.drain();
            assertNoFailures(work);
            assertEquals(work.allocated.sum(), work.verified.sum(), "every block allocated was checked and freed");
            monitor.assertBounds();
            System.out.printf("larson stress: %d platform threads in waves + %d virtual, %d exchanges, %d blocks verified, "
                            + "peak live %d KiB, peak held %d KiB, peak reserved %d MiB, peak cached %d KiB in %d caches, cached at rest %d KiB%n",
                    platformThreads, virtuals.size(), work.operations.sum(), work.verified.sum(), monitor.peakLive.get() >> 10,
                    monitor.peakHeld.get() >> 10, monitor.peakReserved.get() >> 20, monitor.peakCached.get() >> 10, monitor.peakCaches.get(), cachedAtRest >> 10);
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }

    /**
     * xmalloc-style producer/consumer: a few threads only allocate, many others only free, so freed
     * slots pile up in the consumers' caches and must flow back to the central lists rather than
     * grow the heap.
     */
    @Test
    void producersAndConsumersOnDifferentThreadsLoseNothing() throws Exception {
        try (SpanHeap heap = SpanHeap.create(config("stress-xmalloc"))) {
            ExchangeWorkload work = new ExchangeWorkload(heap, 1, 64 * 1024);
            BlockingQueue<ExchangeWorkload.Block> queue = new ArrayBlockingQueue<>(8192);
            ExchangeWorkload.Block endOfStream = new ExchangeWorkload.Block(0, 0, 0, null);
            Monitor monitor = new Monitor(work);
            monitor.start();
            int producers = 3;
            int perProducer = 60_000;
            int platformConsumers = 2;
            int virtualConsumers = 64;
            List<Thread> threads = new ArrayList<>();
            AtomicLong consumed = new AtomicLong();
            Runnable consumer = work.guarded(() -> {
                try {
                    while (true) {
                        ExchangeWorkload.Block block = queue.poll(50, TimeUnit.MILLISECONDS);
                        if (block == endOfStream) {
                            return;
                        }
                        if (block != null) {
                            work.verifyAndFree(block);
                            consumed.incrementAndGet();
                        } else if (work.stop) {
                            return;
                        }
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            for (int c = 0; c < platformConsumers; c++) {
                threads.add(Thread.ofPlatform().name("consumer-" + c).start(consumer));
            }
            for (int c = 0; c < virtualConsumers; c++) {
                threads.add(Thread.ofVirtual().start(consumer));
            }
            List<Thread> producerThreads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                long seed = 77 + p;
                producerThreads.add(Thread.ofPlatform().name("producer-" + p).start(work.guarded(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    try {
                        for (int i = 0; i < perProducer && !work.stop; i++) {
                            ExchangeWorkload.Block block = work.allocate(random);
                            if (random.nextInt(8) == 0) {
                                work.verifyAndFree(block); // some frees stay on the allocating thread
                            } else {
                                while (!queue.offer(block, 50, TimeUnit.MILLISECONDS)) {
                                    if (work.stop) {
                                        work.verifyAndFree(block);
                                        return;
                                    }
                                }
                            }
                            work.operations.increment();
                        }
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                })));
            }
            for (Thread p : producerThreads) {
                p.join();
            }
            for (int c = 0; c < platformConsumers + virtualConsumers; c++) {
                queue.put(endOfStream);
            }
            for (Thread t : threads) {
                t.join();
            }
            monitor.stopAndJoin();
            assertNoFailures(work);
            ExchangeWorkload.Block leftover;
            while ((leftover = queue.poll()) != null) {
                if (leftover != endOfStream) {
                    work.verifyAndFree(leftover);
                }
            }
            assertEquals((long) producers * perProducer, work.allocated.sum(), "blocks produced");
            assertEquals(work.allocated.sum(), work.verified.sum(), "every block produced was checked and freed");
            monitor.assertBounds();
            System.out.printf("xmalloc stress: %d producers, %d platform + %d virtual consumers, %d blocks, %d handed over, "
                            + "peak live %d KiB, peak held %d KiB, peak reserved %d MiB, peak cached %d KiB%n",
                    producers, platformConsumers, virtualConsumers, work.allocated.sum(), consumed.get(),
                    monitor.peakLive.get() >> 10, monitor.peakHeld.get() >> 10, monitor.peakReserved.get() >> 20, monitor.peakCached.get() >> 10);
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }

    /**
     * All threads work the same two size classes in batches larger than a cache holds and swap
     * batches with each other, so refills and give-backs of the same central lists run at the same
     * time, all the time. Only the central list's lock keeps its spans' bitmaps and counts right;
     * a slot handed to two threads at once shows up as a token that changed under its owner.
     */
    @Test
    void oneSizeClassHammeredFromAllThreadsKeepsItsCentralListExact() throws Exception {
        try (SpanHeap heap = SpanHeap.create(config("stress-one-class"))) {
            int platformThreads = 4;
            int virtualThreads = 4;
            int rounds = 1500;
            int batch = 160;
            AtomicReference<long[]> exchange = new java.util.concurrent.atomic.AtomicReference<>();
            ExchangeWorkload bookkeeping = new ExchangeWorkload(heap, 1, 16);
            AtomicLong freed = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < platformThreads + virtualThreads; t++) {
                long threadTag = (long) t << 48;
                Runnable body = bookkeeping.guarded(() -> {
                    for (int round = 0; round < rounds && !bookkeeping.stop; round++) {
                        long size = (round & 1) == 0 ? 16 : 48;
                        long[] mine = new long[2 * batch];
                        for (int i = 0; i < batch; i++) {
                            long address = heap.allocateAddress(size);
                            long token = threadTag | (long) round << 16 | i;
                            MemorySegment block = MemorySegment.ofAddress(address).reinterpret(size);
                            block.set(ValueLayout.JAVA_LONG, 0, token);
                            block.set(ValueLayout.JAVA_LONG, 8, ~token);
                            mine[2 * i] = address;
                            mine[2 * i + 1] = token;
                        }
                        freeBatch(heap, exchange.getAndSet(mine), freed);
                    }
                });
                threads.add(t < platformThreads ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertNoFailures(bookkeeping);
            freeBatch(heap, exchange.getAndSet(null), freed);
            assertEquals((long) (platformThreads + virtualThreads) * rounds * batch, freed.get(), "blocks checked and freed");
            System.out.printf("one-class stress: %d platform + %d virtual threads, %d blocks of 16 and 48 bytes swapped in batches of %d%n",
                    platformThreads, virtualThreads, freed.get(), batch);
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }

    private static void freeBatch(SpanHeap heap, long[] batch, AtomicLong freed) {
        if (batch == null) {
            return;
        }
        for (int i = 0; i < batch.length; i += 2) {
            MemorySegment block = MemorySegment.ofAddress(batch[i]).reinterpret(16);
            long token = block.get(ValueLayout.JAVA_LONG, 0);
            if (token != batch[i + 1] || block.get(ValueLayout.JAVA_LONG, 8) != ~batch[i + 1]) {
                throw new AssertionError("block 0x" + Long.toHexString(batch[i]) + " holds token " + Long.toHexString(token)
                        + ", expected " + Long.toHexString(batch[i + 1]) + ": it was handed out twice");
            }
            heap.freeAddress(batch[i]);
            freed.incrementAndGet();
        }
    }

    private static void assertNoFailures(ExchangeWorkload work) {
        if (!work.failures.isEmpty()) {
            AssertionError error = new AssertionError(work.failures.size() + " worker thread(s) failed; first: " + work.failures.peek(),
                    work.failures.peek());
            throw error;
        }
    }

    /**
     * Samples the heap's statistics while the workers run (racy snapshots, which is what a
     * monitoring tool sees): the caches' bytes must stay within their bound at every sample, and
     * the peaks of held memory and of the live set are kept for the growth bound.
     */
    static final class Monitor {
        private final ExchangeWorkload work;
        private final Thread thread;
        private volatile boolean done;
        final AtomicLong peakHeld = new AtomicLong();
        final AtomicLong peakReserved = new AtomicLong();
        final AtomicLong peakLive = new AtomicLong();
        final AtomicLong peakCached = new AtomicLong();
        final AtomicLong peakCaches = new AtomicLong();
        final AtomicLong samples = new AtomicLong();

        Monitor(ExchangeWorkload work) {
            this.work = work;
            this.thread = Thread.ofPlatform().name("stress-monitor").unstarted(work.guarded(this::sampleUntilDone));
        }

        void start() {
            thread.start();
        }

        private void sampleUntilDone() {
            while (!done) {
                sample();
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void sample() {
            long live = work.liveBytes.get();
            HeapStats stats = work.heap.stats();
            long bound = stats.threadCaches() * HeapProbe.MAX_CACHED_BYTES_PER_CACHE;
            if (stats.cachedBytes() > bound) {
                throw new AssertionError("caches hold " + stats.cachedBytes() + " bytes, over " + stats.threadCaches()
                        + " caches x " + HeapProbe.MAX_CACHED_BYTES_PER_CACHE);
            }
            peakHeld.accumulateAndGet(stats.heldBytes(), Math::max);
            peakReserved.accumulateAndGet(stats.reservedBytes(), Math::max);
            peakLive.accumulateAndGet(Math.max(live, work.liveBytes.get()), Math::max);
            peakCached.accumulateAndGet(stats.cachedBytes(), Math::max);
            peakCaches.accumulateAndGet(stats.threadCaches(), Math::max);
            samples.incrementAndGet();
        }

        void stopAndJoin() throws InterruptedException {
            done = true;
            thread.join();
            sample();
        }

        /**
         * Held memory within {@link #HELD_PER_LIVE_BOUND} x peak live + the caches' bound + slack.
         * Reserved address space within one arena more than that, or than one arena per page heap
         * that owns any: a page heap that meets another's lock taken maps an arena of its own
         * rather than wait (PageHeap.allocateLarge), so each may have one that is partly used.
         */
        void assertBounds() {
            long allowed = (long) (HELD_PER_LIVE_BOUND * peakLive.get()) + peakCaches.get() * HeapProbe.MAX_CACHED_BYTES_PER_CACHE + SLACK_BYTES;
            assertTrue(samples.get() > 10, "the monitor took too few samples: " + samples.get());
            assertTrue(peakHeld.get() <= allowed, () -> "held memory peaked at " + peakHeld.get() + " bytes for a live set of at most "
                    + peakLive.get() + " bytes (allowed " + allowed + ")");
            long owners = Arrays.stream(work.heap.pageHeaps()).filter(h -> h.snapshot().arenasOwned() > 0).count();
            long reservedAllowed = Math.max(allowed, Math.max(1, owners) * HeapProbe.ARENA_BYTES) + HeapProbe.ARENA_BYTES;
            assertTrue(peakReserved.get() <= reservedAllowed, () -> "reserved memory peaked at " + peakReserved.get()
                    + " bytes for a live set of at most " + peakLive.get() + " bytes (allowed " + reservedAllowed + ", "
                    + owners + " page heaps own arenas)");
        }
    }
}
