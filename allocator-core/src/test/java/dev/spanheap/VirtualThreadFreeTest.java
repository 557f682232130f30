package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A virtual thread's free of a small slot from the page table into its CPU's shared cache
 * ({@link SlotFree#freeVirtual}), and every case it must leave to the slow path: a large object,
 * checked mode, a slot back in its span, a span with a live profile sample, a closed heap.
 */
class VirtualThreadFreeTest {

    private static SpanHeap heap(SpanHeapConfig.Builder builder) {
        return SpanHeap.create(builder.shards(2).addressSpaceBytes(8L << 26).scavengerEnabled(false).build());
    }

    /** Runs {@code body} on a new virtual thread; returns what it returned, or what it threw. */
    private static Object onVirtualThread(Callable<?> body) throws InterruptedException {
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                outcome.set(body.call());
            } catch (Throwable e) {
                outcome.set(e);
            }
        }).join();
        return outcome.get();
    }

    private static long cachedSlots(SpanHeap heap, int sizeClass) {
        return heap.cacheRegistry().withEveryCache(all -> heap.cacheRegistry().snapshotLocked(all)).cachedSlots()[sizeClass];
    }

    @Test
    void aSmallSlotGoesToASharedCacheAndIsHandedOutAgain() throws Exception {
        try (SpanHeap heap = heap(SpanHeapConfig.builder())) {
            long block = heap.allocateAddress(48);
            int sizeClass = SizeClasses.classOf(48);
            long cachedBefore = cachedSlots(heap, sizeClass);
            assertNull(onVirtualThread(() -> {
                heap.freeAddress(block);
                return null;
            }));
            assertEquals(cachedBefore + 1, cachedSlots(heap, sizeClass), "the slot waits in a shared cache");
            assertEquals(0, heap.stats().liveObjects());
            heap.verifyInvariants();
            // The next virtual-thread allocation of the class on that CPU pops it (or another of its cache).
            Object again = onVirtualThread(() -> heap.allocateAddress(48));
            assertInstanceOf(Long.class, again);
            assertEquals(1, heap.stats().liveObjects());
            heap.freeAddress((Long) again);
            heap.verifyInvariants();
        }
    }

    @Test
    void aLargeObjectGoesBackToItsPageHeap() throws Exception {
        try (SpanHeap heap = heap(SpanHeapConfig.builder())) {
            long large = heap.allocateAddress(100_000);
            long cachedBefore = heap.stats().cachedBytes();
            assertNull(onVirtualThread(() -> {
                heap.freeAddress(large);
                return null;
            }));
            HeapStats stats = heap.stats();
            assertEquals(0, stats.largeObjects());
            assertEquals(cachedBefore, stats.cachedBytes(), "no cache took the large object");
            heap.verifyInvariants();
            Object second = onVirtualThread(() -> {
                heap.freeAddress(large);
                return null;
            });
            assertInstanceOf(IllegalArgumentException.class, second, "a second free of a large object is always caught");
        }
    }

    @Test
    void checkedModeCatchesAVirtualThreadsDoubleFreeAtTheCall() throws Exception {
        try (SpanHeap heap = heap(SpanHeapConfig.builder().checked(true))) {
            long keep = heap.allocateAddress(64);
            long block = heap.allocateAddress(64);
            assertNull(onVirtualThread(() -> {
                heap.freeAddress(block);
                return null;
            }));
            assertEquals(1, heap.stats().liveObjects(), "checked mode returns the slot to its span at once");
            Object second = onVirtualThread(() -> {
                heap.freeAddress(block);
                return null;
            });
            assertInstanceOf(IllegalArgumentException.class, second);
            assertTrue(((Throwable) second).getMessage().contains("double free"), ((Throwable) second).getMessage());
            heap.freeAddress(keep);
            heap.verifyInvariants();
        }
    }

    @Test
    void aSampledSlotFreedByAVirtualThreadDropsItsSample() throws Exception {
        // Every allocation sampled: each small span holds a live sample while its slot is live.
        try (SpanHeap heap = heap(SpanHeapConfig.builder().profileSampleBytes(1))) {
            MemorySegment block = heap.allocate(64, 8);
            assertEquals(1, heap.profiler().sampledSpanBlocks().length, "the block is sampled");
            assertNull(onVirtualThread(() -> {
                heap.free(block);
                return null;
            }));
            assertEquals(0, heap.profiler().sampledSpanBlocks().length, "the slow path dropped the sample");
            heap.verifyInvariants();
        }
    }

    @Test
    void aClosedHeapRefusesAVirtualThreadsFree() throws Exception {
        SpanHeap heap = heap(SpanHeapConfig.builder());
        long block = heap.allocateAddress(64);
        heap.close();
        Object outcome = onVirtualThread(() -> {
            heap.freeAddress(block);
            return null;
        });
        assertInstanceOf(IllegalStateException.class, outcome);
        assertFalse(heap.cacheRegistry().sharedCacheOfCpu().sharedLock.isLocked());
    }
}
