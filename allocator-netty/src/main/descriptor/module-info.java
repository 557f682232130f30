/**
 * SpanHeap under Netty: a {@code ByteBufAllocator} whose direct buffers live in a SpanHeap.
 * Only {@code dev.spanheap.netty} is exported, and in it only the allocator is public.
 */
module dev.spanheap.netty {
    requires transitive dev.spanheap;
    requires transitive io.netty.buffer;
    requires io.netty.common;
    exports dev.spanheap.netty;
}
