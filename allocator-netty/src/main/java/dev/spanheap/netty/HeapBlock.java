package dev.spanheap.netty;

import io.netty.util.internal.CleanableDirectBuffer;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One SpanHeap block seen by Netty as a {@link CleanableDirectBuffer}: a {@code ByteBuffer} view of
 * the segment, its address, and {@link #clean()} giving the block back to the heap.
 *
 * <p>Used by one buffer at a time, whose reference count guarantees a single {@code clean()}; the
 * {@link #handOver()} flag is touched only by the thread changing that buffer's capacity.
 */
final class HeapBlock implements CleanableDirectBuffer {

    private final SpanHeapByteBufAllocator allocator;
    private final MemorySegment segment;
    private final ByteBuffer buffer;
    /** Set when the memory now belongs to a resized block over the same address; {@link #clean()} then does nothing. */
    private boolean handedOver;
    private boolean cleaned;

    HeapBlock(SpanHeapByteBufAllocator allocator, MemorySegment segment) {
        this.allocator = allocator;
        this.segment = segment;
        this.buffer = segment.asByteBuffer();
    }

    MemorySegment segment() {
        return segment;
    }

    void handOver() {
        handedOver = true;
    }

    @Override
    public ByteBuffer buffer() {
        return buffer;
    }

    @Override
    public void clean() {
        if (cleaned) {
            throw new IllegalStateException("block at 0x" + Long.toHexString(segment.address()) + " ("
                    + segment.byteSize() + " bytes) cleaned twice");
        }
        cleaned = true;
        if (!handedOver) {
            allocator.free(this);
        }
    }

    @Override
    public boolean hasMemoryAddress() {
        return true;
    }

    @Override
    public long memoryAddress() {
        return segment.address();
    }
}
