package dev.spanheap.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.util.internal.CleanableDirectBuffer;

/**
 * A Netty direct buffer over one SpanHeap block: Netty's {@link UnpooledDirectByteBuf} with its
 * memory taken from, resized in and given back to the allocator's heap.
 *
 * <p>Netty asks for memory through {@link #allocateDirectBuffer(int)} when the buffer is built and
 * when its capacity changes, copies the kept bytes, then cleans the old block. A capacity change
 * that the current block's slot or run can hold is done by {@code SpanHeap.reallocate} in place:
 * the "new" block is the old memory, so Netty's copy is of the bytes onto themselves, and the old
 * block's clean is a no-op. Otherwise a new block is allocated and the old one freed after the copy.
 */
final class SpanHeapDirectByteBuf extends UnpooledDirectByteBuf {

    /** The block in use; null until the superclass constructor asks for the first. Owner thread only. */
    private HeapBlock block;
    /** True while {@link #capacity(int)} runs. Owner thread only. */
    private boolean resizing;

    SpanHeapDirectByteBuf(SpanHeapByteBufAllocator allocator, int initialCapacity, int maxCapacity) {
        super(allocator, initialCapacity, maxCapacity);
    }

    // Called from the superclass constructor, before this class's constructor body: only alloc() and
    // fields without initializers may be used here.
    @Override
    protected CleanableDirectBuffer allocateDirectBuffer(int capacity) {
        SpanHeapByteBufAllocator allocator = (SpanHeapByteBufAllocator) alloc();
        HeapBlock next = resizing && block != null ? allocator.resizeInPlace(block, capacity) : null;
        if (next == null) {
            next = allocator.allocateBlock(capacity);
        }
        block = next;
        return next;
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        resizing = true;
        try {
            return super.capacity(newCapacity);
        } finally {
            resizing = false;
        }
    }
}
