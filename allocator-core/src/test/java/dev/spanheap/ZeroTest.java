package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link Zero#clear} clears exactly the block it is given: every byte inside becomes zero and no
 * byte outside changes, for every length from 0 to 300 (both sides of the stores/memset split) at
 * every start offset modulo 16 (the stores are unaligned and overlap).
 */
class ZeroTest {

    private static final byte MARK = (byte) 0xA5;

    @Test
    void clearsExactlyTheBlockAtEveryLengthAndOffset() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(512, 64);
            for (long length = 0; length <= 300; length++) {
                for (long offset = 0; offset < 16; offset++) {
                    buffer.fill(MARK);
                    long start = 64 + offset;
                    Zero.clear(buffer.address() + start, length);
                    for (long i = 0; i < buffer.byteSize(); i++) {
                        byte expected = i >= start && i < start + length ? 0 : MARK;
                        byte actual = buffer.get(ValueLayout.JAVA_BYTE, i);
                        if (actual != expected) {
                            assertEquals(expected, actual, "byte " + i + " after clearing " + length
                                    + " bytes from offset " + start);
                        }
                    }
                }
            }
        }
    }
}
