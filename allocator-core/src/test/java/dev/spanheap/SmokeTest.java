package dev.spanheap;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void allocateFreeAndVerify() {
        try (SpanHeap heap = SpanHeap.create()) {
            long[] sizes = {0, 1, 8, 16, 64, 1000, 1024, 1025, 4096, 32768, 32769, 100_000, 1 << 20, 70L << 20};
            MemorySegment[] segs = new MemorySegment[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                segs[i] = heap.allocate(sizes[i], 8);
                assertEquals(sizes[i], segs[i].byteSize());
                if (sizes[i] > 0) {
                    segs[i].set(ValueLayout.JAVA_BYTE, sizes[i] - 1, (byte) 7);
                }
                heap.verifyInvariants();
            }
            long a = heap.allocateAddress(64);
            heap.freeAddress(a);
            System.out.println(heap.stats());
            for (MemorySegment s : segs) {
                heap.free(s);
                heap.verifyInvariants();
            }
            heap.flushReachableCaches();
            heap.verifyInvariants();
            HeapStats st = heap.stats();
            System.out.println(st);
            assertEquals(0, st.liveObjects());
            assertEquals(0, st.spanBytes());
        }
    }
}
