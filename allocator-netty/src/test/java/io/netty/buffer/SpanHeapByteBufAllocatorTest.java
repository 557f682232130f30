package io.netty.buffer;

import dev.spanheap.netty.HeapLeakCheck;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Netty's allocator contract tests ({@link ByteBufAllocatorTest}, from the netty-buffer tests jar)
 * run on {@code SpanHeapByteBufAllocator}, with the heap checked empty after every test.
 */
class SpanHeapByteBufAllocatorTest extends ByteBufAllocatorTest {

    @RegisterExtension
    static final HeapLeakCheck HEAP = new HeapLeakCheck();

    @Override
    protected int defaultMaxCapacity() {
        return AbstractByteBufAllocator.DEFAULT_MAX_CAPACITY;
    }

    @Override
    protected int defaultMaxComponents() {
        return AbstractByteBufAllocator.DEFAULT_MAX_COMPONENTS;
    }

    @Override
    protected ByteBufAllocator newAllocator(boolean preferDirect) {
        return HEAP.allocator(preferDirect);
    }

    /** SpanHeap can always free its direct buffers, so the preference alone decides. */
    @Override
    protected boolean isDirectExpected(boolean preferDirect) {
        return preferDirect;
    }
}
