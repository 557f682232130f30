package dev.spanheap.netty;

import io.netty.buffer.UnpooledHeapByteBuf;

/**
 * A Netty heap buffer whose arrays are counted in its {@link SpanHeapByteBufAllocator}'s metric, so
 * that {@code usedHeapMemory()} is exact too.
 */
final class CountedHeapByteBuf extends UnpooledHeapByteBuf {

    CountedHeapByteBuf(SpanHeapByteBufAllocator allocator, int initialCapacity, int maxCapacity) {
        super(allocator, initialCapacity, maxCapacity);
    }

    // Called from the superclass constructor too: uses alloc() only.
    @Override
    protected byte[] allocateArray(int initialCapacity) {
        byte[] array = new byte[initialCapacity];
        ((SpanHeapByteBufAllocator) alloc()).heapBytesAllocated(initialCapacity);
        return array;
    }

    @Override
    protected void freeArray(byte[] array) {
        ((SpanHeapByteBufAllocator) alloc()).heapBytesAllocated(-array.length);
    }
}
