package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spanheap.internal.CoreProbe;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link CoreProbe}, which the benchmarks time, must be the core's code: its page-table check has
 * to accept exactly the addresses the free fast path accepts, and its cache steps and clear have
 * to do what the heap's do. A probe that drifted from the core would time something else.
 */
class CoreProbeTest {

    @Test
    void slotCheckAcceptsSlotStartsOfTheCachesShardOnly() {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().shards(2).scavengerEnabled(false).build())) {
            long slot = heap.allocateAddress(64);
            Span span = heap.addressRange().spanAt(slot);
            Object ownShard = new ThreadCache(Thread.currentThread(), span.listShard, 0);
            Object otherShard = new ThreadCache(Thread.currentThread(), 1 - span.listShard, 0);
            assertEquals(SizeClasses.classOf(64), CoreProbe.ownSlotClass(heap, ownShard, slot));
            assertEquals(0, CoreProbe.ownSlotClass(heap, ownShard, slot + 8), "inside a slot");
            assertEquals(0, CoreProbe.ownSlotClass(heap, otherShard, slot), "another shard's slot");
            long large = heap.allocateAddress(100_000);
            assertEquals(0, CoreProbe.ownSlotClass(heap, ownShard, large), "a large object");
            assertEquals(0, CoreProbe.ownSlotClass(heap, ownShard, heap.addressRange().base - 64), "below the heap");
            heap.freeAddress(slot);
            heap.freeAddress(large);
        }
    }

    @Test
    void cacheStepsAreTheThreadCachesOwn() {
        Object cache = CoreProbe.newThreadCache(Thread.currentThread());
        int sizeClass = CoreProbe.sizeClassOf(64);
        assertEquals(SizeClasses.classOf(64), sizeClass);
        assertTrue(CoreProbe.isOwnedBy(cache, Thread.currentThread()));
        assertEquals(0, CoreProbe.pop(cache, sizeClass), "a new cache is empty");
        assertTrue(CoreProbe.push(cache, sizeClass, 0x1000));
        assertEquals(1, ((ThreadCache) cache).count(sizeClass));
        assertEquals(0x1000, CoreProbe.pop(cache, sizeClass));
        Thread other = new Thread(() -> { });
        assertFalse(CoreProbe.isOwnedBy(cache, other));
    }

    @Test
    void clearAndMemsetZeroExactlyTheBlock() {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            for (long bytes : new long[] {8, 24, 40, 1024}) {
                MemorySegment block = heap.allocate(bytes + 16, 8);
                block.fill((byte) 0x5A);
                CoreProbe.clear(block.address() + 8, bytes);
                assertZeroedBetween(block, 8, 8 + bytes);
                block.fill((byte) 0x5A);
                CoreProbe.memset(block.address() + 8, bytes);
                assertZeroedBetween(block, 8, 8 + bytes);
                heap.free(block);
            }
        }
    }

    private static void assertZeroedBetween(MemorySegment block, long from, long to) {
        for (long i = 0; i < block.byteSize(); i++) {
            byte expected = i >= from && i < to ? 0 : (byte) 0x5A;
            assertEquals(expected, block.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of " + block.byteSize());
        }
    }
}
