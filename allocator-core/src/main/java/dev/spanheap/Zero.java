package dev.spanheap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Clearing memory the heap or a stack hands out: straight-line stores up to {@link #STORES_UP_TO}
 * bytes, libc's memset (vectorized, through a critical downcall) above. {@code ZeroingBenchmark}
 * chose the split (ns, JDK 25, this machine): stores 1.1 at 8 B, 1.9 at 24 B, 2.7 at 40 B, 2.9 at
 * 64 B; memset 2.7 to 2.9 flat up to 128 B, 3.2 at 256 B, 5.4 at 1 KiB, 23 at 4 KiB;
 * {@code MemorySegment.fill} 2.1 at 8 B, 4.2 at 96 B, 18 at 1 KiB and 78 at 4 KiB (from 32 bytes
 * on it calls the JVM's {@code setMemory} stub). A loop of stores is worse still between 40 and
 * 256 bytes: C2 vectorizes it, and the vector loop's set-up costs more than the block.
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
