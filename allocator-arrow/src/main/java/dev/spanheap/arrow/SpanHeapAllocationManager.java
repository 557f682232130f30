package dev.spanheap.arrow;

import dev.spanheap.SpanHeap;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.BufferAllocator;

/**
 * An Apache Arrow {@link AllocationManager} whose memory is one {@link SpanHeap} block: Arrow's
 * allocators keep their accounting (limits, child allocators, transfers, the leak check at close)
 * and only the memory behind each {@code ArrowBuf} comes from the heap.
 *
 * <p>Install it with
 * {@code new RootAllocator(RootAllocator.configBuilder().allocationManagerFactory(SpanHeapAllocationManager.factory()).build())};
 * child allocators inherit it. Arrow still reads and writes {@code ArrowBuf} through
 * {@code sun.misc.Unsafe}, which needs {@code --add-opens=java.base/java.nio=org.apache.arrow.memory.core,ALL-UNNAMED}
 * as with Arrow's own managers.
 *
 * <p>The block is allocated with the heap's raw path (contents unspecified, as with Arrow's other
 * managers: vectors clear what they need) and freed when Arrow releases the last reference to it.
 * The factory does not own the heap: close it only after every allocator on it.
 */
public final class SpanHeapAllocationManager extends AllocationManager {

    private final SpanHeap heap;
    private final long address;
    private final long size;

    SpanHeapAllocationManager(BufferAllocator accountingAllocator, SpanHeap heap, long size) {
        super(accountingAllocator);
        this.heap = heap;
        this.address = heap.allocateAddress(size);
        this.size = size;
    }

    /** A factory of managers on {@code heap}, for {@code RootAllocator.configBuilder().allocationManagerFactory(...)}. */
    public static AllocationManager.Factory factory(SpanHeap heap) {
        if (heap == null) {
            throw new IllegalArgumentException("heap is null");
        }
        return new HeapAllocationFactory(heap);
    }

    /** A factory of managers on the process-wide {@link SpanHeap#shared()} heap. */
    public static AllocationManager.Factory factory() {
        return factory(SpanHeap.shared());
    }

    /** The bytes Arrow asked for (and accounts for); the heap's block may be larger. */
    @Override
    public long getSize() {
        return size;
    }

    @Override
    protected long memoryAddress() {
        return address;
    }

    @Override
    protected void release0() {
        heap.freeAddress(address);
    }
}
