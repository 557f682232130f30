package dev.spanheap.netty;

import io.netty.buffer.ByteBufAllocatorMetric;
import java.util.concurrent.atomic.LongAdder;

/**
 * The metric of a {@link SpanHeapByteBufAllocator}: the capacities of its live direct buffers and
 * the array lengths of its live heap buffers, in bytes, counted as they are allocated, resized and
 * released (so exact whenever no buffer is changing at the moment of reading).
 *
 * <p>Updated by any thread that allocates, resizes or releases a buffer; the counters are
 * {@link LongAdder}s, so updates do not contend.
 */
final class UsedMemory implements ByteBufAllocatorMetric {

    private final LongAdder directBytes = new LongAdder();
    private final LongAdder heapBytes = new LongAdder();

    void addDirect(long bytes) {
        directBytes.add(bytes);
    }

    void addHeap(long bytes) {
        heapBytes.add(bytes);
    }

    @Override
    public long usedHeapMemory() {
        return heapBytes.sum();
    }

    @Override
    public long usedDirectMemory() {
        return directBytes.sum();
    }

    @Override
    public String toString() {
        return "usedHeapMemory: " + usedHeapMemory() + "; usedDirectMemory: " + usedDirectMemory();
    }
}
