package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The public contract of {@link SpanHeap}, size by size, plus its error messages. */
class SpanHeapTest {

    private static SpanHeap heap() {
        return SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(8L << 26).scavengerEnabled(false).build());
    }

    @Test
    void segmentsHaveTheAskedSizeAlignmentAndZeros() {
        long[] sizes = {0, 1, 7, 8, 9, 63, 64, 65, 1000, 1024, 1025, 4096, 32767, 32768, 32769, 100_000, 1 << 20, 70L << 20};
        long[] alignments = {1, 8, 16, 64, 4096, 8192, 65536};
        try (SpanHeap heap = heap()) {
            for (long size : sizes) {
                for (long alignment : alignments) {
                    MemorySegment s = heap.allocate(size, alignment);
                    assertEquals(size, s.byteSize());
                    assertEquals(0, s.address() % alignment, size + " @ " + alignment);
                    for (long i = 0; i < size; i += Math.max(1, size / 64)) {
                        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "not zero at " + i);
                    }
                    if (size > 0) {
                        s.fill((byte) 0x5A);
                    }
                    heap.free(s);
                    heap.verifyInvariants();
                }
            }
        }
    }

    @Test
    void reusedMemoryIsZeroedAgain() {
        try (SpanHeap heap = heap()) {
            for (long size : new long[] {24, 4096, 40_000}) {
                MemorySegment a = heap.allocate(size, 8);
                a.fill((byte) -1);
                heap.free(a);
                MemorySegment b = heap.allocate(size, 8);
                assertEquals(a.address(), b.address(), "LIFO reuse of the same block");
                assertEquals(-1L, b.mismatch(MemorySegment.ofArray(new byte[(int) size])), "zeroed on reuse");
                heap.free(b);
            }
        }
    }

    @Test
    void usableSizeIsTheSlotOrTheRun() {
        try (SpanHeap heap = heap()) {
            long small = heap.allocateAddress(100);
            assertEquals(112, heap.usableSize(small));
            long large = heap.allocateAddress(40_000);
            assertEquals(40_960, heap.usableSize(large));
            heap.freeAddress(small);
            heap.freeAddress(large);
        }
    }

    @Test
    void reallocateKeepsContentsAndZeroesTheRest() {
        try (SpanHeap heap = heap()) {
            MemorySegment s = heap.allocate(100, 8);
            s.fill((byte) 7);
            MemorySegment grown = heap.reallocate(s, 5000);
            assertEquals(5000, grown.byteSize());
            for (int i = 0; i < 100; i++) {
                assertEquals(7, grown.get(ValueLayout.JAVA_BYTE, i));
            }
            for (int i = 100; i < 5000; i++) {
                assertEquals(0, grown.get(ValueLayout.JAVA_BYTE, i));
            }
            MemorySegment inPlace = heap.reallocate(grown, 4500);
            assertEquals(grown.address(), inPlace.address());
            MemorySegment shrunk = heap.reallocate(inPlace, 10);
            assertEquals(7, shrunk.get(ValueLayout.JAVA_BYTE, 9));
            heap.free(shrunk);
            heap.flushCurrentThreadCache();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().liveObjects());
        }
    }

    @Test
    void badInputIsRejectedWithTheNumbersAndTheHeapStaysUsable() {
        try (SpanHeap heap = heap()) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> heap.allocate(-5, 8)).getMessage().contains("-5"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> heap.allocate(8, 3)).getMessage().contains("3"));
            assertThrows(IllegalArgumentException.class, () -> heap.allocate(8, 0));
            assertThrows(IllegalArgumentException.class, () -> heap.allocateAddress(-1));
            long a = heap.allocateAddress(48);
            IllegalArgumentException interior = assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(a + 8));
            assertTrue(interior.getMessage().contains("not the start of a slot"), interior.getMessage());
            assertTrue(interior.getMessage().contains("48-byte slots"), interior.getMessage());
            IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(12345));
            assertTrue(foreign.getMessage().contains("0x3039"), foreign.getMessage());
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment other = arena.allocate(16);
                assertThrows(IllegalArgumentException.class, () -> heap.free(other));
            }
            assertThrows(IllegalArgumentException.class, () -> heap.free(null));
            long large = heap.allocateAddress(100_000);
            heap.freeAddress(large);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> heap.freeAddress(large)).getMessage().contains("free pages"));
            heap.verifyInvariants();
            heap.freeAddress(a);
            heap.verifyInvariants();
        }
    }

    @Test
    void checkedModeCatchesEveryDoubleFreeAndWritesAfterFree() {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().checked(true).addressSpaceBytes(2L << 26).build())) {
            MemorySegment s = heap.allocate(64, 8);
            heap.free(s);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> heap.free(s)).getMessage().contains("double free"));
            heap.verifyInvariants();
            s.set(ValueLayout.JAVA_LONG, 8, 42);
            IllegalStateException e = assertThrows(IllegalStateException.class, heap::verifyInvariants);
            assertTrue(e.getMessage().contains("written after free"), e.getMessage());
            IllegalStateException onReuse = assertThrows(IllegalStateException.class, () -> heap.allocate(64, 8));
            assertTrue(onReuse.getMessage().contains("offset 8"), onReuse.getMessage());
            heap.verifyInvariants();
            MemorySegment next = heap.allocate(64, 8);
            heap.free(next);
        }
    }

    @Test
    void closedHeapRejectsEverythingAndItsSegmentsBecomeInaccessible() {
        SpanHeap heap = heap();
        MemorySegment s = heap.allocate(64, 8);
        long a = heap.allocateAddress(64);
        heap.close();
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> heap.allocate(8, 8));
        assertThrows(IllegalStateException.class, () -> heap.allocateAddress(8));
        assertThrows(IllegalStateException.class, () -> heap.freeAddress(a));
        assertThrows(IllegalStateException.class, () -> heap.free(s));
        assertThrows(IllegalStateException.class, heap::stats);
        heap.close();
    }

    @Test
    void limitFailsWithAUsefulMessageAndTheHeapRecovers() {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().maxHeapBytes(8L << 20).addressSpaceBytes(2L << 26).build())) {
            MemorySegment big = heap.allocate(6L << 20, 8);
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> heap.allocate(4L << 20, 8));
            assertTrue(e.getMessage().contains("4194304") && e.getMessage().contains("8388608"), e.getMessage());
            heap.verifyInvariants();
            heap.free(big);
            heap.free(heap.allocate(4L << 20, 8));
            heap.verifyInvariants();
        }
    }
}
