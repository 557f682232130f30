/**
 * SpanHeap under Apache Arrow: an {@code AllocationManager} whose buffers live in a SpanHeap.
 * Only {@code dev.spanheap.arrow} is exported, and in it only the allocation manager is public.
 */
module dev.spanheap.arrow {
    requires transitive dev.spanheap;
    requires transitive org.apache.arrow.memory.core;
    exports dev.spanheap.arrow;
}
