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
 * The frees that {@link SlotFree} takes from the page table without the slow path: a virtual
 * thread's free of a small slot into its CPU's shared cache ({@link SlotFree#freeVirtual}), with
 * every case it must leave to the slow path (a large object, checked mode, a slot back in its
 * span, a span with a live profile sample, a closed heap); and addresses that only look like
 * slot starts from the page table's entry (the tail after a span's last slot, a page boundary
 * inside a slot of a span of several pages), refused on the owner's thread, on another shard's
 * and on a virtual thread.
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

    /** A class whose span has a tail after its last slot: the tail's start is a multiple of the slot size but no slot. */
    private static int classWithATail() {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            if ((long) SizeClasses.SLOT_SIZE[c] * SizeClasses.SLOTS_PER_SPAN[c] < (long) SizeClasses.SPAN_PAGES[c] * SizeClasses.PAGE_SIZE) {
                return c;
            }
        }
        throw new AssertionError("every class fills its span");
    }

    /** A class of several pages per span whose slots straddle the page boundaries. */
    private static int classStraddlingPages() {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            if (SizeClasses.SPAN_PAGES[c] > 1 && SizeClasses.PAGE_SIZE % SizeClasses.SLOT_SIZE[c] != 0) {
                return c;
            }
        }
        throw new AssertionError("no class straddles pages");
    }

    private static Object freeOn(boolean virtual, SpanHeap heap, long address) throws InterruptedException {
        if (virtual) {
            return onVirtualThread(() -> {
                heap.freeAddress(address);
                return null;
            });
        }
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread.ofPlatform().start(() -> {
            try {
                heap.allocateAddress(8); // its own cache, on the other shard
                heap.freeAddress(address);
            } catch (Throwable e) {
                outcome.set(e);
            }
        }).join();
        return outcome.get();
    }

    /** A free of {@code address}, no slot start, refused as such on the owner's thread, another shard's and a virtual thread. */
    private static void assertRefusedOnEveryThread(SpanHeap heap, long address) throws InterruptedException {
        Throwable own = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(address));
        assertTrue(own.getMessage().contains("slot"), own.getMessage());
        assertInstanceOf(IllegalArgumentException.class, freeOn(false, heap, address), "another shard's thread");
        assertInstanceOf(IllegalArgumentException.class, freeOn(true, heap, address), "a virtual thread");
    }

    @Test
    void theTailAfterASpansLastSlotIsNoSlotOnAnyThread() throws Exception {
        int c = classWithATail();
        try (SpanHeap heap = heap(SpanHeapConfig.builder())) {
            long block = heap.allocateAddress(SizeClasses.SLOT_SIZE[c]);
            Span span = heap.addressRange().spanAt(block);
            long tail = span.start + (long) SizeClasses.SLOT_SIZE[c] * SizeClasses.SLOTS_PER_SPAN[c];
            assertRefusedOnEveryThread(heap, tail);
            heap.freeAddress(block);
            heap.verifyInvariants();
        }
    }

    @Test
    void aPageBoundaryInsideASlotIsNoSlotOnAnyThread() throws Exception {
        int c = classStraddlingPages();
        try (SpanHeap heap = heap(SpanHeapConfig.builder())) {
            long block = heap.allocateAddress(SizeClasses.SLOT_SIZE[c]);
            Span span = heap.addressRange().spanAt(block);
            long boundary = span.start + SizeClasses.PAGE_SIZE; // inside a slot: the size does not divide the page
            assertEquals(-1, span.slotOf(boundary));
            assertRefusedOnEveryThread(heap, boundary);
            heap.freeAddress(block);
            heap.verifyInvariants();
        }
    }
}
