package dev.spanheap.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.util.internal.CleanableDirectBuffer;

/**
 * A Netty direct buffer over one SpanHeap block: Netty's {@link UnpooledDirectByteBuf} with its
 * memory taken from, resized in and given back to the allocator's heap.
 *
 * <p>How it hooks into Netty 4.2 (whose initial allocation is package-private): the buffer is
 * built around the first block's {@code ByteBuffer} view, which Netty then treats as memory it does
 * not own, so this class frees that block itself (on release, or after the first capacity change
 * that moves it). Every capacity change asks {@link #allocateDirectBuffer(int)} for the new memory,
 * copies the kept bytes and cleans the old block, and from then on Netty cleans the blocks it was
 * given. A change that the current block's slot or run can hold is done by
 * {@code SpanHeap.reallocate} in place: the "new" block is the same memory, Netty's copy is of the
 * bytes onto themselves, and the old block's clean does not free it.
 *
 * <p>The buffer reports its memory address ({@link #hasMemoryAddress()} is always true), as Netty's
 * own Java 25 direct buffers do. Fields are touched by the thread that owns the buffer, as Netty's
 * rules for a buffer's capacity and release require.
 */
final class SpanHeapDirectByteBuf extends UnpooledDirectByteBuf {

    /** The block in use. */
    private HeapBlock block;
    /** The first block, while Netty still holds it as memory it must not free (so this class frees it). */
    private HeapBlock unownedInitialBlock;
    /** True while {@link #capacity(int)} runs. */
    private boolean resizing;

    SpanHeapDirectByteBuf(SpanHeapByteBufAllocator allocator, HeapBlock initial, int maxCapacity) {
        super(allocator, initial.buffer(), maxCapacity);
        this.block = initial;
        this.unownedInitialBlock = initial;
        // Netty's wrapping constructor marks the wrapped bytes readable; a new buffer has none.
        setIndex(0, 0);
    }

    @Override
    protected CleanableDirectBuffer allocateDirectBuffer(int capacity) {
        SpanHeapByteBufAllocator allocator = (SpanHeapByteBufAllocator) alloc();
        HeapBlock next = resizing ? allocator.resizeInPlace(block, capacity) : null;
        if (next == null) {
            next = allocator.allocateBlock(capacity);
        }
        block = next;
        return next;
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        HeapBlock before = block;
        resizing = true;
        try {
            super.capacity(newCapacity);
        } finally {
            resizing = false;
        }
        if (unownedInitialBlock != null && block != before) {
            // Netty let go of the first block without freeing it; clean() frees it unless it was resized in place.
            unownedInitialBlock = null;
            before.clean();
        }
        return this;
    }

    @Override
    protected void deallocate() {
        super.deallocate();
        if (unownedInitialBlock != null) {
            unownedInitialBlock = null;
            block.clean();
        }
    }

    @Override
    public boolean hasMemoryAddress() {
        return true;
    }

    @Override
    public long memoryAddress() {
        ensureAccessible();
        return block.memoryAddress();
    }
}
