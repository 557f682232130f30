package dev.spanheap;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The stack arena on the module path, where the core's restricted calls (reinterpret) run as
 * module {@code dev.spanheap}: open, allocate on the stack and from the heap, close, check.
 */
class StackArenaSmokeTest {

    @Test
    void openAllocateCloseOnTheModulePath() {
        try (SpanHeap heap = SpanHeap.create()) {
            MemorySegment small, big;
            try (Arena arena = heap.newConfinedArena()) {
                small = arena.allocate(64, 16);
                big = arena.allocate(1 << 20);
                assertEquals(0, small.address() % 16);
                assertEquals(0, small.get(ValueLayout.JAVA_LONG, 56));
                small.set(ValueLayout.JAVA_LONG, 0, 42);
                big.set(ValueLayout.JAVA_BYTE, (1 << 20) - 1, (byte) 1);
                assertEquals(arena.scope(), small.scope());
                assertEquals(arena.scope(), big.scope());
                StackStats during = heap.stats().stack();
                assertEquals(1, during.openFrames());
                assertEquals(1, during.fallbackAllocations());
                assertEquals(64, during.bytesInUse());
                assertNull(heap.threadStacks().verifyCurrentThread());
            }
            assertFalse(small.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> small.get(ValueLayout.JAVA_LONG, 0));
            assertThrows(IllegalStateException.class, () -> big.get(ValueLayout.JAVA_BYTE, 0));
            assertNull(heap.threadStacks().verifyCurrentThread());
            StackStats after = heap.stats().stack();
            assertEquals(0, after.openFrames());
            assertEquals(0, after.bytesInUse());
            assertEquals(64, after.highWaterBytes());
            assertEquals(1, after.chunks());
            heap.verifyInvariants();
        }
    }
}
