package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code allocate(0, alignment)} must behave like any other allocation at every alignment: a
 * distinct, aligned address that can be freed. Found by the model-based property test: with an
 * alignment above the 8 KiB page, a zero-byte request used to get a span of zero pages, which was
 * in no page table, could not be freed, and broke the page heap's counters.
 */
class ZeroByteAllocationTest {

    @ParameterizedTest
    @ValueSource(longs = {1, 8, 16, 4096, 8192, 16384, 1 << 20, 1 << 26, 1 << 27})
    void zeroBytesAtAnyAlignmentGetDistinctFreeableBlocks(long alignment) {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            MemorySegment first = heap.allocate(0, alignment);
            MemorySegment second = heap.allocate(0, alignment);
            assertEquals(0, first.byteSize());
            assertEquals(0, first.address() % alignment);
            assertEquals(0, second.address() % alignment);
            assertNotEquals(first.address(), second.address(), "two live zero-byte blocks share an address");
            heap.verifyInvariants();
            assertEquals(2, heap.stats().liveObjects());
            heap.free(first);
            heap.free(second);
            heap.verifyInvariants();
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }

    @Test
    void zeroBytesAtPageAlignmentAreCountedAsOneLargeObject() {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            MemorySegment block = heap.allocate(0, 16384);
            assertEquals(1, heap.stats().largeObjects());
            assertEquals(HeapProbe.PAGE_BYTES, heap.stats().largeObjectBytes());
            heap.free(block);
            heap.verifyInvariants();
        }
    }
}
