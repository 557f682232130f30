package dev.spanheap.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spanheap.SpanHeap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What SpanHeap's Netty allocator promises beyond Netty's own suites: memory from the heap and back
 * on the last release, resizing in place where the block allows, an exact metric, addresses, leak
 * tracking, composite buffers, and buffers released on another thread. Each test ends with the
 * heap empty (see {@link HeapLeakCheck}).
 */
class SpanHeapByteBufAllocatorBehaviourTest {

    @RegisterExtension
    static final HeapLeakCheck HEAP = new HeapLeakCheck();

    private final SpanHeapByteBufAllocator allocator = HEAP.allocator();

    @Test
    void directBuffersAreHeapBlocksFreedOnTheLastRelease() {
        ByteBuf buffer = allocator.directBuffer(1000);
        assertTrue(buffer.isDirect());
        assertEquals(1, HEAP.heap().stats().liveObjects());
        assertTrue(HEAP.heap().usableSize(buffer.memoryAddress()) >= 1000, "the address starts a heap block");
        buffer.retain();
        buffer.release();
        assertEquals(1, HEAP.heap().stats().liveObjects(), "still referenced once");
        assertTrue(buffer.release());
        assertEquals(0, HEAP.heap().stats().liveObjects());
    }

    @Test
    void theMetricCountsLiveCapacitiesExactly() {
        ByteBuf a = allocator.directBuffer(100);
        ByteBuf b = allocator.directBuffer(70_000);
        ByteBuf h = allocator.heapBuffer(300);
        assertEquals(70_100, allocator.metric().usedDirectMemory());
        assertEquals(300, allocator.metric().usedHeapMemory());
        a.capacity(5000);
        assertEquals(75_000, allocator.metric().usedDirectMemory(), "a growth that moves");
        b.capacity(69_000);
        assertEquals(74_000, allocator.metric().usedDirectMemory(), "a shrink in place");
        h.capacity(600);
        assertEquals(600, allocator.metric().usedHeapMemory());
        a.release();
        b.release();
        h.release();
        assertEquals(0, allocator.metric().usedDirectMemory());
        assertEquals(0, allocator.metric().usedHeapMemory());
    }

    @Test
    void capacityChangesStayInPlaceWhenTheBlockHoldsThem() {
        ByteBuf buffer = allocator.directBuffer(100);
        long address = buffer.memoryAddress();
        long usable = HEAP.heap().usableSize(address);
        buffer.writeBytes(new byte[] {1, 2, 3, 4});
        buffer.capacity((int) usable);
        assertEquals(address, buffer.memoryAddress(), "grown to the whole slot without moving");
        buffer.capacity((int) (usable / 2 + 1));
        assertEquals(address, buffer.memoryAddress(), "shrunk to just over half without moving");
        assertEquals(0x01020304, buffer.getInt(0));
        buffer.capacity((int) usable * 4);
        assertNotEquals(address, buffer.memoryAddress(), "a growth past the slot moves");
        assertEquals(0x01020304, buffer.getInt(0), "and keeps the contents");
        assertEquals(1, HEAP.heap().stats().liveObjects(), "the old block went back to the heap");
        buffer.release();
    }

    @Test
    void growingAndShrinkingKeepContentsAndTheMetricForManySizes() {
        // Small slots, large runs and a dedicated mapping, each grown and shrunk in place and by moving.
        for (int size : new int[] {1, 8, 24, 100, 1000, 4096, 8192, 20_000, 32_768, 40_000, 100_000, 1 << 20, 70 << 20}) {
            ByteBuf buffer = allocator.directBuffer(size, Integer.MAX_VALUE);
            buffer.setByte(0, 0x5a);
            for (int next : new int[] {size + 1, size * 2, size + size / 3, Math.max(1, size / 2), Math.max(1, size / 3), size}) {
                buffer.capacity(next);
                assertEquals(next, buffer.capacity());
                assertEquals(next, allocator.metric().usedDirectMemory());
                assertEquals(0x5a, buffer.getByte(0), "first byte kept at " + next + " bytes");
                if (next > 1) {
                    buffer.setByte(next - 1, 1);
                }
                assertEquals(1, HEAP.heap().stats().liveObjects());
            }
            buffer.release();
        }
    }

    @Test
    void addressesAreThereForViewsAndSingleComponentComposites() {
        ByteBuf buffer = allocator.directBuffer(256).writeZero(256);
        assertTrue(buffer.hasMemoryAddress());
        assertEquals(buffer.memoryAddress() + 16, buffer.slice(16, 32).memoryAddress());
        assertEquals(buffer.memoryAddress(), buffer.duplicate().memoryAddress());
        assertEquals(buffer.memoryAddress(), buffer.asReadOnly().memoryAddress());
        assertEquals(buffer.memoryAddress(), PlatformDependent.directBufferAddress(buffer.nioBuffer()),
                "the NIO view has the same address");
        CompositeByteBuf single = allocator.compositeDirectBuffer();
        single.addComponent(true, buffer.retain());
        assertTrue(single.hasMemoryAddress(), "Netty gives a one-component composite its component's address");
        CompositeByteBuf two = allocator.compositeDirectBuffer();
        two.addComponents(true, allocator.directBuffer(8).writeLong(1), allocator.directBuffer(8).writeLong(2));
        assertFalse(two.hasMemoryAddress(), "and none to a composite of two");
        assertEquals(2, two.getLong(8));
        single.release();
        two.release();
        buffer.release();
    }

    @Test
    void compositeBuffersOfHeapBlocksReadAcrossComponents() {
        CompositeByteBuf composite = allocator.compositeBuffer(64);
        for (int i = 0; i < 40; i++) {
            composite.addComponent(true, allocator.directBuffer(3).writeByte(i).writeByte(i + 1).writeByte(i + 2));
        }
        assertEquals(120, composite.readableBytes());
        for (int i = 0; i < 40; i++) {
            assertEquals(i + 1, composite.getByte(i * 3 + 1));
        }
        ByteBuf consolidated = composite.copy();
        assertTrue(consolidated.isDirect());
        assertEquals(composite, consolidated);
        assertEquals(41, HEAP.heap().stats().liveObjects());
        consolidated.release();
        composite.release();
    }

    @Test
    void buffersAreLeakTracked() {
        ByteBuf direct = allocator.directBuffer(10);
        ByteBuf heap = allocator.heapBuffer(10);
        CompositeByteBuf composite = allocator.compositeDirectBuffer();
        assertTrue(direct.getClass().getSimpleName().contains("LeakAware"), direct.getClass().getName());
        assertTrue(heap.getClass().getSimpleName().contains("LeakAware"), heap.getClass().getName());
        assertTrue(composite.getClass().getSimpleName().contains("LeakAware"), composite.getClass().getName());
        direct.release();
        heap.release();
        composite.release();
    }

    @Test
    void buffersReleasedOnOtherThreadsGoBackToTheHeap() throws Exception {
        List<ByteBuf> buffers = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            buffers.add(allocator.directBuffer(16 + (i * 37) % 5000).writeInt(i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int first = t;
                done.add(pool.submit(() -> {
                    for (int i = first; i < buffers.size(); i += 3) {
                        assertEquals(i, buffers.get(i).getInt(0));
                        buffers.get(i).release();
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(0, allocator.metric().usedDirectMemory());
    }

    @Test
    void preferenceDecidesBufferAndIoBuffersAreDirect() {
        SpanHeapByteBufAllocator heapFirst = HEAP.allocator(false);
        ByteBuf plain = heapFirst.buffer(10);
        ByteBuf io = heapFirst.ioBuffer(10);
        assertFalse(plain.isDirect());
        assertTrue(io.isDirect());
        assertTrue(allocator.buffer(10).release());
        plain.release();
        io.release();
        assertTrue(allocator.isDirectBufferPooled());
    }

    @Test
    void theNoArgumentAllocatorUsesTheSharedHeap() {
        SpanHeapByteBufAllocator shared = new SpanHeapByteBufAllocator();
        assertSame(SpanHeap.shared(), shared.heap());
        long before = SpanHeap.shared().stats().liveObjects();
        ByteBuf buffer = shared.directBuffer(64);
        assertEquals(before + 1, SpanHeap.shared().stats().liveObjects());
        buffer.release();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SpanHeapByteBufAllocator(null));
        assertEquals("heap is null", e.getMessage());
    }
}
