package dev.spanheap.netty;

import dev.spanheap.SpanHeap;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.lang.foreign.MemorySegment;

/**
 * A Netty {@link io.netty.buffer.ByteBufAllocator} whose direct buffers take their memory from a
 * {@link SpanHeap}: each buffer is one heap block, given back to the heap on its last
 * {@code release()}, and resized through {@link SpanHeap#reallocate} (in place when the block's slot
 * or run has room).
 *
 * <p>Install it with {@code bootstrap.childOption(ChannelOption.ALLOCATOR, new SpanHeapByteBufAllocator())}.
 * It needs no {@code sun.misc.Unsafe} and no {@code --add-opens}: a direct buffer reads and writes
 * its block through the block's {@code MemorySegment} (see {@link SpanHeapByteBuf}), and reports
 * {@link ByteBuf#hasMemoryAddress()} true with the block's address, as Netty's own Java 25 buffers
 * do. Heap buffers are plain Netty heap buffers (counted in {@link #metric()}); composite buffers
 * are Netty's. Every buffer is handed to Netty's {@code ResourceLeakDetector}.
 *
 * <p>The allocator does not own the heap: closing the heap while buffers are live makes them
 * inaccessible ({@link IllegalStateException} on access), so close it only after the channels.
 */
public final class SpanHeapByteBufAllocator extends AbstractByteBufAllocator implements ByteBufAllocatorMetricProvider {

    private final SpanHeap heap;
    private final boolean preferDirect;
    private final UsedMemory metric = new UsedMemory();

    /** An allocator on the process-wide {@link SpanHeap#shared()} heap, preferring direct buffers. */
    public SpanHeapByteBufAllocator() {
        this(SpanHeap.shared());
    }

    /** An allocator on {@code heap}, preferring direct buffers. */
    public SpanHeapByteBufAllocator(SpanHeap heap) {
        this(heap, true);
    }

    /**
     * An allocator on {@code heap}; {@code preferDirect} says whether {@link #buffer()} hands out direct
     * (SpanHeap) buffers or heap buffers. {@link #ioBuffer()} is always direct.
     *
     * @throws IllegalArgumentException if {@code heap} is null
     */
    public SpanHeapByteBufAllocator(SpanHeap heap, boolean preferDirect) {
        super(preferDirect);
        if (heap == null) {
            throw new IllegalArgumentException("heap is null");
        }
        this.heap = heap;
        this.preferDirect = preferDirect;
    }

    /** The heap the direct buffers come from. */
    public SpanHeap heap() {
        return heap;
    }

    /** Used heap and direct memory, in bytes: the capacities of the live buffers, exactly. */
    @Override
    public ByteBufAllocatorMetric metric() {
        return metric;
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        MemorySegment segment = heap.allocateUninitialized(initialCapacity, 8);
        metric.addDirect(initialCapacity);
        return toLeakAwareBuffer(new SpanHeapByteBuf(this, segment, maxCapacity));
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(new CountedHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    /** Direct buffers come from a heap of size-classed blocks, which is what Netty means by pooled. */
    @Override
    public boolean isDirectBufferPooled() {
        return true;
    }

    // Netty's own choice between heap and direct also asks whether it can free direct buffers
    // itself; this allocator always can, so only preferDirect decides.

    @Override
    public ByteBuf buffer() {
        return preferDirect ? directBuffer() : heapBuffer();
    }

    @Override
    public ByteBuf buffer(int initialCapacity) {
        return preferDirect ? directBuffer(initialCapacity) : heapBuffer(initialCapacity);
    }

    @Override
    public ByteBuf buffer(int initialCapacity, int maxCapacity) {
        return preferDirect ? directBuffer(initialCapacity, maxCapacity) : heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public ByteBuf ioBuffer() {
        return directBuffer();
    }

    @Override
    public ByteBuf ioBuffer(int initialCapacity) {
        return directBuffer(initialCapacity);
    }

    @Override
    public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) {
        return directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public String toString() {
        return "SpanHeapByteBufAllocator[" + heap + ", preferDirect " + preferDirect + ", " + metric + "]";
    }

    // ---------------------------------------------------------------- for the buffers

    /** {@code segment} resized by {@link SpanHeap#reallocate} (in place when its slot or run allows). */
    MemorySegment reallocate(MemorySegment segment, int capacity) {
        MemorySegment resized = heap.reallocate(segment, capacity);
        metric.addDirect(capacity - segment.byteSize());
        return resized;
    }

    /** Gives a buffer's block back to the heap. */
    void free(MemorySegment segment) {
        heap.free(segment);
        metric.addDirect(-segment.byteSize());
    }

    void heapBytesAllocated(int bytes) {
        metric.addHeap(bytes);
    }
}
