package dev.spanheap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Clearing memory the heap or a stack hands out: straight-line stores up to {@link #STORES_UP_TO}
 * bytes, libc's memset (vectorized, through a critical downcall) above. {@code ZeroingBenchmark},
 * one run (ns, JDK 25, this machine): this class 0.9 / 0.9 / 1.4 / 1.4 at 8 / 16 / 24 / 32 B,
 * where memset takes 2.8 to 2.9; memset 2.7 to 3.1 from 40 to 128 B, 5.8 at 1 KiB, 22 at 4 KiB;
 * {@code MemorySegment.fill} 1.9 up to 24 B, then 3.1 to 4.7 up to 128 B, 19 at 1 KiB and 75 at
 * 4 KiB (from 32 bytes on it calls the JVM's {@code setMemory} stub). During development a
 * straight-line variant with up to 16 stores took 2.7 and 2.9 ns at 40 and 64 B, no better than
 * memset, so stores stop at 32 B. A loop of stores was worse than both from 40 to 256 B: C2
 * vectorizes it, and the vector loop's set-up costs more than the block.
 */
final class Zero {

    /** Blocks up to this size are cleared with stores; larger ones with memset ({@link OsMemory#zero}). */
    static final long STORES_UP_TO = 32;

    /** Every address, no scope: the target of the stores. Only ever used on memory the caller owns. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Zero() {
    }

    /** Clears {@code [address, address + bytes)}; the caller owns it. */
    static void clear(long address, long bytes) {
        if (bytes <= STORES_UP_TO) {
            withStores(address, bytes);
        } else {
            OsMemory.zero(address, bytes);
        }
    }

    /**
     * Clears a block of at most {@link #STORES_UP_TO} bytes with at most four stores that never
     * leave it: 8-byte stores from both ends, overlapping in the middle; under 8 bytes, two
     * overlapping 4-byte stores or up to three 1-byte ones.
     */
    static void withStores(long address, long bytes) {
        if (bytes >= Long.BYTES) {
            long last = address + bytes - Long.BYTES;
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, 0L);
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, last, 0L);
            if (bytes > 2 * Long.BYTES) {
                ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address + Long.BYTES, 0L);
                ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, last - Long.BYTES, 0L);
            }
        } else if (bytes >= Integer.BYTES) {
            ALL.set(ValueLayout.JAVA_INT_UNALIGNED, address, 0);
            ALL.set(ValueLayout.JAVA_INT_UNALIGNED, address + bytes - Integer.BYTES, 0);
        } else if (bytes > 0) {
            ALL.set(ValueLayout.JAVA_BYTE, address, (byte) 0);
            ALL.set(ValueLayout.JAVA_BYTE, address + (bytes >> 1), (byte) 0);
            ALL.set(ValueLayout.JAVA_BYTE, address + bytes - 1, (byte) 0);
        }
    }
}
