package io.netty.buffer;

import dev.spanheap.netty.HeapLeakCheck;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Netty's own buffer test suite ({@link AbstractByteBufTest}, from the netty-buffer tests jar) run
 * on direct buffers from {@code SpanHeapByteBufAllocator}, leak-tracked at PARANOID, with the heap
 * checked empty after every test.
 *
 * <p>It sits in Netty's package because the suite's helpers are package-private.
 */
class SpanHeapDirectByteBufTest extends AbstractByteBufTest {

    @RegisterExtension
    static final HeapLeakCheck HEAP = new HeapLeakCheck();

    @Override
    protected ByteBuf newBuffer(int capacity, int maxCapacity) {
        ByteBuf buffer = HEAP.allocator().directBuffer(capacity, maxCapacity);
        if (!buffer.isDirect() || !buffer.hasMemoryAddress()) {
            throw new AssertionError("not a SpanHeap direct buffer with an address: " + buffer);
        }
        // Throws unless the address starts a live block of this test's heap.
        HEAP.heap().usableSize(buffer.memoryAddress());
        return buffer;
    }
}
