package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Two threads that really run at once on one shared thread cache, every allocation and free
 * through its lock. Virtual threads pick shared caches by CPU, so two of them meet on one only
 * when a carrier migrates: a test built on them would seldom race. Platform threads whose
 * cache-table index is taken by a live owner share a cache picked by thread id, so two threads
 * whose ids are equal modulo the table size (and so modulo the shared caches' count) use the
 * same one, on two cores, for as long as the test runs. Without the lock on either path the
 * cache's stacks are pushed and popped at once: a slot handed out twice shows as another
 * thread's tag in a live block, a lost slot as a count that is not zero at rest.
 */
class SharedCacheContentionTest {

    private static final int ROUNDS = 200_000;
    private static final int LIVE = 64;

    @Test
    void twoThreadsOnOneSharedCacheNeverShareABlock() throws InterruptedException {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(8L << 26).scavengerEnabled(false).build())) {
            CountDownLatch ownerRegistered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread owner = Thread.ofPlatform().start(() -> {
                heap.freeAddress(heap.allocateAddress(16)); // takes the table entry
                ownerRegistered.countDown();
                awaitQuietly(release);
            });
            ownerRegistered.await();

            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> sharers = new ArrayList<>();
            for (int seed = 0; seed < 2; seed++) {
                int thread = seed;
                sharers.add(HeapProbe.unstartedThreadOnTheEntryOf(owner, ThreadCacheRegistry.INDEX_MASK, () -> {
                    try {
                        awaitQuietly(start);
                        hammer(heap, thread);
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                }));
            }
            long cachesBefore = heap.stats().threadCaches();
            sharers.forEach(Thread::start);
            start.countDown();
            for (Thread t : sharers) {
                t.join();
            }
            long cachesAfter = heap.stats().threadCaches();
            release.countDown();
            owner.join();

            assertNull(failure.get(), () -> "a sharer failed: " + failure.get());
            assertEquals(cachesBefore, cachesAfter, "the sharers got caches of their own: the test raced nothing");
            HeapStats stats = heap.stats();
            assertEquals(0, stats.liveObjects(), "live objects at rest");
            assertEquals(0, stats.allocatedBytes(), "allocated bytes at rest");
            assertEquals(stats.totalAllocations(), stats.totalFrees(), "allocations and frees at rest");
            heap.verifyInvariants();
        }
    }

    /**
     * Random small sizes (most in the classes below 1 KiB, whose cache stacks turn over fastest),
     * {@link #LIVE} blocks live at a time, each tagged with its thread and sequence number at both
     * ends and checked before its free.
     */
    private static void hammer(SpanHeap heap, int thread) {
        SplittableRandom random = new SplittableRandom(42 + thread);
        long[] addresses = new long[LIVE];
        long[] sizes = new long[LIVE];
        long[] tags = new long[LIVE];
        MemorySegment all = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
        for (int round = 0; round < ROUNDS; round++) {
            int i = round % LIVE;
            if (addresses[i] != 0) {
                check(all, addresses[i], sizes[i], tags[i]);
                heap.freeAddress(addresses[i]);
            }
            long size = random.nextInt(8) == 0 ? 8 + random.nextInt(32_768 - 8) : 8 + random.nextInt(1024 - 8);
            long tag = ((long) thread << 48) | round;
            long address = heap.allocateAddress(size);
            all.set(ValueLayout.JAVA_LONG_UNALIGNED, address, tag);
            all.set(ValueLayout.JAVA_LONG_UNALIGNED, tailOf(address, size), tag);
            addresses[i] = address;
            sizes[i] = size;
            tags[i] = tag;
        }
        for (int i = 0; i < LIVE; i++) {
            check(all, addresses[i], sizes[i], tags[i]);
            heap.freeAddress(addresses[i]);
        }
    }

    private static void check(MemorySegment all, long address, long size, long tag) {
        long head = all.get(ValueLayout.JAVA_LONG_UNALIGNED, address);
        long tail = all.get(ValueLayout.JAVA_LONG_UNALIGNED, tailOf(address, size));
        if (head != tag || tail != tag) {
            throw new AssertionError("block 0x" + Long.toHexString(address) + " (" + size + " B) of tag 0x" + Long.toHexString(tag)
                    + " holds 0x" + Long.toHexString(head) + " / 0x" + Long.toHexString(tail) + ": handed to two threads");
        }
    }

    /** Where the tail tag goes: the last 8 bytes, or the head itself in a block too small for two tags. */
    private static long tailOf(long address, long size) {
        return size >= 16 ? address + size - 8 : address;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
