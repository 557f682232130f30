package dev.spanheap.netty;

import dev.spanheap.HeapStats;
import dev.spanheap.SpanHeap;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit extension that owns the heap of a Netty test class: it turns Netty's leak detector to
 * PARANOID, and after each test (after the test class's own {@code @AfterEach} methods, which
 * release the buffers) fails the test if the heap still holds a live object or the allocator
 * still counts used direct memory. Closes the heap after the class.
 *
 * <p>Register it as a static field with {@code @RegisterExtension}.
 */
public final class HeapLeakCheck implements AfterEachCallback, AfterAllCallback {

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    private final SpanHeap heap = SpanHeap.create();
    private final SpanHeapByteBufAllocator allocator = new SpanHeapByteBufAllocator(heap, true);
    private final SpanHeapByteBufAllocator heapPreferring = new SpanHeapByteBufAllocator(heap, false);

    public SpanHeap heap() {
        return heap;
    }

    /** The direct-preferring allocator on this heap. */
    public SpanHeapByteBufAllocator allocator() {
        return allocator;
    }

    /** The allocator on this heap for a given preference. */
    public SpanHeapByteBufAllocator allocator(boolean preferDirect) {
        return preferDirect ? allocator : heapPreferring;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new AssertionError("leak detection was turned down to " + ResourceLeakDetector.getLevel());
        }
        HeapStats stats = heap.stats();
        long direct = allocator.metric().usedDirectMemory() + heapPreferring.metric().usedDirectMemory();
        if (stats.liveObjects() != 0 || direct != 0) {
            throw new AssertionError(context.getDisplayName() + " left " + stats.liveObjects() + " live objects ("
                    + stats.allocatedBytes() + " bytes) in the heap; the allocators count " + direct + " bytes of direct memory");
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        heap.close();
    }
}
