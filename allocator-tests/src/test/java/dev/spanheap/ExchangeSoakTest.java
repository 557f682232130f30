package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The larson-style exchange of {@link ConcurrentExchangeStressTest}, run for minutes or hours:
 * slow leaks, counters that drift, and fragmentation that creeps only show up over a long run.
 * Runs only on demand with {@code -Dspanheap.soakSeconds=N}; prints operations per second and the
 * live set at regular intervals, and at the end checks the same bounds as the stress test.
 */
class ExchangeSoakTest {

    @Test
    void longExchangeKeepsContentsCountsAndMemoryInBounds() throws Exception {
        long seconds = Long.getLong("spanheap.soakSeconds", 0);
        assumeTrue(seconds > 0, "soak test skipped: run it with -Dspanheap.soakSeconds=N (e.g. 600)");
        int platformThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        int virtualThreads = 100;
        SpanHeapConfig config = SpanHeapConfig.builder().name("soak").scavengerDelay(Duration.ofMillis(200)).build();
        try (SpanHeap heap = SpanHeap.create(config)) {
            ExchangeWorkload work = new ExchangeWorkload(heap, 8192, 256 * 1024);
            ConcurrentExchangeStressTest.Monitor monitor = new ConcurrentExchangeStressTest.Monitor(work);
            monitor.start();
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < platformThreads + virtualThreads; t++) {
                long seed = 31L * t + 7;
                boolean platform = t < platformThreads;
                Runnable body = work.guarded(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    // Platform workers end and are replaced every 100,000 exchanges, so dead caches keep being reclaimed.
                    int budget = platform ? 100_000 : Integer.MAX_VALUE;
                    for (int i = 0; i < budget && !work.stop && System.nanoTime() < deadline; i++) {
                        work.exchange(random);
                        if (!platform && (i & 63) == 0) {
                            // A short timed park, not Thread.yield(): a yielding virtual thread goes back on its
                            // carrier's local queue while that queue has tasks, so a few yielders can run forever
                            // while a virtual thread unparked by a platform thread (a lock handed to it) waits in
                            // the scheduler's external queue: the 1 h soak's stall (docs/testing.md).
                            LockSupport.parkNanos(1_000);
                        }
                    }
                });
                threads.add(platform ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
            }
            long reportEvery = Math.clamp(seconds / 20, 1, 60) * 1_000_000_000L;
            long started = System.nanoTime();
            long lastOps = 0;
            long lastReport = started;
            long replaced = 0;
            while (System.nanoTime() < deadline && !work.stop) {
                Thread.sleep(100);
                for (int t = 0; t < platformThreads; t++) {
                    if (!threads.get(t).isAlive() && System.nanoTime() < deadline) {
                        long seed = 1_000_003L * ++replaced;
                        threads.set(t, Thread.ofPlatform().start(work.guarded(() -> {
                            SplittableRandom random = new SplittableRandom(seed);
                            for (int i = 0; i < 100_000 && !work.stop && System.nanoTime() < deadline; i++) {
                                work.exchange(random);
                            }
                        })));
                    }
                }
                long now = System.nanoTime();
                if (now - lastReport >= reportEvery) {
                    long ops = work.operations.sum();
                    HeapStats stats = heap.stats();
                    System.out.printf("soak t=%4ds  %,10.0f ops/s  live %,8d KiB in %,7d blocks  held %,8d KiB  cached %,6d KiB  caches %d%n",
                            (now - started) / 1_000_000_000L, (ops - lastOps) * 1e9 / (now - lastReport), work.liveBytes.get() >> 10,
                            work.liveBlocks.get(), stats.heldBytes() >> 10, stats.cachedBytes() >> 10, stats.threadCaches());
                    lastOps = ops;
                    lastReport = now;
                }
            }
            for (Thread t : threads) {
                t.join();
            }
            monitor.stopAndJoin();
            if (!work.failures.isEmpty()) {
                throw new AssertionError("worker failed: " + work.failures.peek(), work.failures.peek());
            }
            work.drain();
            assertEquals(work.allocated.sum(), work.verified.sum(), "every block allocated was checked and freed");
            monitor.assertBounds();
            System.out.printf("soak done: %d s, %,d exchanges (%,.0f ops/s), %d platform threads replaced, peak live %d KiB, peak held %d KiB%n",
                    seconds, work.operations.sum(), work.operations.sum() * 1e9 / (System.nanoTime() - started), replaced,
                    monitor.peakLive.get() >> 10, monitor.peakHeld.get() >> 10);
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }
}
