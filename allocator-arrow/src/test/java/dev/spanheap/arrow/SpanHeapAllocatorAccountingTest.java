package dev.spanheap.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spanheap.HeapStats;
import dev.spanheap.SpanHeap;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.OwnershipTransferResult;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Arrow's allocator accounting on SpanHeap memory, in the manner of Arrow's own
 * {@code TestBaseAllocator}: the manager must change where the bytes live and nothing of what Arrow
 * counts, limits, transfers or reports as leaked. After every test the heap holds no live object.
 */
class SpanHeapAllocatorAccountingTest {

    private static final SpanHeap HEAP = SpanHeap.create();
    private static final AllocationManager.Factory FACTORY = SpanHeapAllocationManager.factory(HEAP);

    private static RootAllocator root(long limit) {
        return new RootAllocator(RootAllocator.configBuilder().allocationManagerFactory(FACTORY).maxAllocation(limit).build());
    }

    @AfterEach
    void heapIsEmpty() {
        HeapStats stats = HEAP.stats();
        assertEquals(0, stats.liveObjects(), () -> "live objects left in the heap: " + stats.liveObjects()
                + " (" + stats.allocatedBytes() + " bytes)");
    }

    @AfterAll
    static void closeHeap() {
        HEAP.close();
    }

    @Test
    void buffersAreHeapBlocksAndAccountedAtTheirRoundedSize() {
        try (RootAllocator root = root(1 << 20)) {
            ArrowBuf buffer = root.buffer(1000);
            assertInstanceOf(SpanHeapAllocationManager.class, allocationManagerOf(buffer));
            assertEquals(1024, root.getAllocatedMemory(), "Arrow rounds requests up to a power of two");
            assertTrue(HEAP.usableSize(buffer.memoryAddress()) >= 1024, "the buffer starts a heap block");
            assertEquals(1, HEAP.stats().liveObjects());
            for (int i = 0; i < 250; i++) {
                buffer.setInt(i * 4L, i * 31);
            }
            for (int i = 0; i < 250; i++) {
                assertEquals(i * 31, buffer.getInt(i * 4L));
            }
            buffer.close();
            assertEquals(0, root.getAllocatedMemory());
            assertEquals(0, HEAP.stats().liveObjects());
        }
    }

    @Test
    void zeroByteBuffersAreTheEmptyBufferAndOwnNoMemory() {
        try (RootAllocator root = root(1 << 20)) {
            ArrowBuf empty = root.buffer(0);
            assertSame(FACTORY.empty(), empty);
            assertEquals(0, empty.capacity());
            assertEquals(0, HEAP.stats().liveObjects());
            empty.close();
        }
    }

    @Test
    void rootLimitRefusesTheAllocationAndKeepsAccountingIntact() {
        try (RootAllocator root = root(64 * 1024)) {
            ArrowBuf kept = root.buffer(48 * 1024);
            OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> root.buffer(32 * 1024));
            assertTrue(e.getMessage().contains("Unable to allocate buffer"), e.getMessage());
            assertEquals(64 * 1024, root.getAllocatedMemory(), "48 KiB rounds to 64 KiB");
            assertEquals(1, HEAP.stats().liveObjects(), "the refused buffer took no heap memory");
            kept.close();
        }
    }

    @Test
    void childAllocatorsAccountToTheirParentAndHonourTheirOwnLimit() {
        try (RootAllocator root = root(1 << 20);
             BufferAllocator child = root.newChildAllocator("child", 0, 16 * 1024);
             BufferAllocator grandchild = child.newChildAllocator("grandchild", 0, 8 * 1024)) {
            ArrowBuf a = child.buffer(4096);
            ArrowBuf b = grandchild.buffer(8192);
            assertEquals(4096 + 8192, child.getAllocatedMemory());
            assertEquals(4096 + 8192, root.getAllocatedMemory());
            assertThrows(OutOfMemoryException.class, () -> grandchild.buffer(1));
            assertThrows(OutOfMemoryException.class, () -> child.buffer(8192));
            assertEquals(2, HEAP.stats().liveObjects());
            b.close();
            a.close();
            assertEquals(0, root.getAllocatedMemory());
        }
    }

    // Arrow refuses any operation on a closed allocator, releasing a leaked buffer included: the
    // leaked block stays in the heap for good. These tests use a heap of their own, check that it
    // holds exactly the leaked block, and close it.

    @Test
    void leakedBufferIsReportedWhenItsAllocatorCloses() {
        try (SpanHeap own = SpanHeap.create()) {
            RootAllocator root = new RootAllocator(RootAllocator.configBuilder()
                    .allocationManagerFactory(SpanHeapAllocationManager.factory(own)).build());
            BufferAllocator child = root.newChildAllocator("leaky", 0, 1 << 20);
            ArrowBuf leaked = child.buffer(2048);
            IllegalStateException e = assertThrows(IllegalStateException.class, child::close);
            assertTrue(e.getMessage().contains("Memory was leaked by query. Memory leaked: (2048)"), e.getMessage());
            assertThrows(IllegalStateException.class, leaked::close, "Arrow refuses to release into a closed allocator");
            assertThrows(IllegalStateException.class, root::close, "the root sees its child's leak");
            assertEquals(1, own.stats().liveObjects(), "exactly the leaked block is left");
        }
    }

    @Test
    void leakAtTheRootIsReportedToo() {
        try (SpanHeap own = SpanHeap.create()) {
            RootAllocator root = new RootAllocator(RootAllocator.configBuilder()
                    .allocationManagerFactory(SpanHeapAllocationManager.factory(own)).build());
            root.buffer(100);
            IllegalStateException e = assertThrows(IllegalStateException.class, root::close);
            assertTrue(e.getMessage().contains("Memory leaked: (128)"), e.getMessage());
            assertEquals(1, own.stats().liveObjects());
        }
    }

    @Test
    void transferMovesAccountingAndTheMemoryStaysPut() {
        try (RootAllocator root = root(1 << 20);
             BufferAllocator from = root.newChildAllocator("from", 0, 1 << 20);
             BufferAllocator to = root.newChildAllocator("to", 0, 1 << 20)) {
            ArrowBuf original = from.buffer(4096);
            original.setLong(0, 0x1122334455667788L);
            long address = original.memoryAddress();
            OwnershipTransferResult result = original.getReferenceManager().transferOwnership(original, to);
            assertTrue(result.getAllocationFit());
            ArrowBuf moved = result.getTransferredBuffer();
            original.close();
            assertEquals(0, from.getAllocatedMemory());
            assertEquals(4096, to.getAllocatedMemory());
            assertEquals(address, moved.memoryAddress());
            assertEquals(0x1122334455667788L, moved.getLong(0));
            assertEquals(1, HEAP.stats().liveObjects());
            moved.close();
            assertEquals(0, to.getAllocatedMemory());
        }
    }

    @Test
    void transferPastTheTargetLimitIsReportedAsNotFitting() {
        try (RootAllocator root = root(1 << 20);
             BufferAllocator from = root.newChildAllocator("from", 0, 1 << 20);
             BufferAllocator small = root.newChildAllocator("small", 0, 1024)) {
            ArrowBuf original = from.buffer(4096);
            OwnershipTransferResult result = original.getReferenceManager().transferOwnership(original, small);
            assertEquals(false, result.getAllocationFit());
            original.close();
            result.getTransferredBuffer().close();
        }
    }

    @Test
    void sharedReferenceFreesTheBlockOnlyWhenBothAreReleased() {
        try (RootAllocator root = root(1 << 20);
             BufferAllocator first = root.newChildAllocator("first", 0, 1 << 20);
             BufferAllocator second = root.newChildAllocator("second", 0, 1 << 20)) {
            ArrowBuf buffer = first.buffer(512);
            ArrowBuf shared = buffer.getReferenceManager().retain(buffer, second);
            buffer.close();
            assertEquals(1, HEAP.stats().liveObjects(), "the second reference keeps the block alive");
            shared.setByte(511, 7);
            assertEquals(7, shared.getByte(511));
            shared.close();
            assertEquals(0, HEAP.stats().liveObjects());
        }
    }

    @Test
    void sharedHeapFactoryAndNullHeap() {
        AllocationManager.Factory shared = SpanHeapAllocationManager.factory();
        try (RootAllocator root = new RootAllocator(RootAllocator.configBuilder().allocationManagerFactory(shared).build())) {
            long before = SpanHeap.shared().stats().liveObjects();
            ArrowBuf buffer = root.buffer(64);
            assertEquals(before + 1, SpanHeap.shared().stats().liveObjects());
            buffer.close();
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SpanHeapAllocationManager.factory(null));
        assertEquals("heap is null", e.getMessage());
    }

    private static Object allocationManagerOf(ArrowBuf buffer) {
        return ((org.apache.arrow.memory.BufferLedger) buffer.getReferenceManager()).getAllocationManager();
    }
}
