package io.netty.buffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spanheap.SpanHeap;
import dev.spanheap.netty.SpanHeapByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A SpanHeap buffer dropped without {@code release()} is reported by Netty's leak detector, with
 * the allocator in its creation record, and its block is what stays in the heap. It sits in Netty's
 * package to reach the buffers' detector, which is package-private.
 */
class SpanHeapLeakReportTest {

    @Test
    void aDroppedBufferIsReportedAsALeak() throws InterruptedException {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        List<String> reports = new CopyOnWriteArrayList<>();
        AbstractByteBuf.leakDetector.setLeakListener((type, records) -> reports.add(type + "\n" + records));
        try (SpanHeap heap = SpanHeap.create()) {
            SpanHeapByteBufAllocator allocator = new SpanHeapByteBufAllocator(heap);
            allocateAndDrop(allocator);
            // The detector looks for collected, unreleased buffers when it tracks a new one.
            for (int i = 0; i < 100 && reports.isEmpty(); i++) {
                System.gc();
                Thread.sleep(10);
                allocator.directBuffer(8).release();
            }
            assertFalse(reports.isEmpty(), "no leak reported");
            String report = reports.get(0);
            assertTrue(report.startsWith("ByteBuf"), report);
            assertTrue(report.contains("SpanHeapByteBufAllocator.newDirectBuffer"), report);
            assertTrue(report.contains("allocateAndDrop"), report);
            assertEquals(1, heap.stats().liveObjects(), "the leaked block is the one live object");
            assertEquals(4096, allocator.metric().usedDirectMemory());
        } finally {
            AbstractByteBuf.leakDetector.setLeakListener(null);
        }
    }

    private static void allocateAndDrop(SpanHeapByteBufAllocator allocator) {
        ByteBuf leaked = allocator.directBuffer(4096);
        leaked.writeLong(42);
    }
}
