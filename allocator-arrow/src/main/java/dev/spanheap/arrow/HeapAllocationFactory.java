package dev.spanheap.arrow;

import dev.spanheap.SpanHeap;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.ReferenceManager;

/**
 * The {@link AllocationManager.Factory} behind {@link SpanHeapAllocationManager#factory(SpanHeap)}:
 * one {@link SpanHeapAllocationManager} per Arrow allocation, on one heap.
 *
 * <p>Zero-byte buffers are the shared empty buffer, which owns no memory (address 0, as Arrow's
 * Unsafe manager's empty buffer has).
 */
final class HeapAllocationFactory implements AllocationManager.Factory {

    private static final ArrowBuf EMPTY = new ArrowBuf(ReferenceManager.NO_OP, null, 0, 0);

    private final SpanHeap heap;

    HeapAllocationFactory(SpanHeap heap) {
        this.heap = heap;
    }

    @Override
    public AllocationManager create(BufferAllocator accountingAllocator, long size) {
        return new SpanHeapAllocationManager(accountingAllocator, heap, size);
    }

    @Override
    public ArrowBuf empty() {
        return EMPTY;
    }

    @Override
    public String toString() {
        return "SpanHeapAllocationManager.factory(" + heap + ")";
    }
}
