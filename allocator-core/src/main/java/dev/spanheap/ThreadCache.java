package dev.spanheap;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A per-thread stack of free slot addresses for each size class; Go's {@code mcache} (per P there,
 * per platform thread here). The allocation fast path pops from it and the free fast path pushes to
 * it, with no lock and no atomic instruction: only its owner thread touches it.
 *
 * <p><b>Layout.</b> One flat {@code long[]}: class {@code c} owns entries
 * {@code [c << 6, (c << 6) + CAPACITY[c])}, filled from the bottom; {@link #counts}{@code [c]} is
 * how many are in use. Bit 0 of an entry is set when the slot is known to be zero (needzero): the
 * zeroing allocation skips the clear for it.
 *
 * <p><b>Bounds.</b> Class {@code c} holds at most {@link #CAPACITY}{@code [c]} slots (64 for small
 * slots, fewer as slots grow, so that about 64 KiB of each class is cached); a whole cache holds at
 * most {@link #MAX_CACHED_BYTES}. When a push finds its class full, the older half goes back to
 * the central list; when a pop finds it empty, half a capacity comes from the central list.
 *
 * <p><b>Owners.</b> A platform thread owns its cache; when it ends, the heap reclaims the cache and
 * gives its slots back (see {@link SpanHeap}). Virtual threads never get their own: they share a
 * small fixed set of caches, each used under {@link #sharedLock}.
 *
 * <p>Synchronization: owner thread only (or holders of {@link #sharedLock} for a shared cache).
 * {@link #counts} and {@link #frees} are also read racily by statistics.
 */
final class ThreadCache {

    static final int CLASS_SHIFT = 6;
    static final int[] CAPACITY = new int[SizeClasses.CLASS_COUNT];
    static final long MAX_CACHED_BYTES;

    static {
        long total = 0;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            CAPACITY[c] = Math.clamp((64 << 10) / SizeClasses.SLOT_SIZE[c], 4, 1 << CLASS_SHIFT);
            total += (long) CAPACITY[c] * SizeClasses.SLOT_SIZE[c];
        }
        MAX_CACHED_BYTES = total;
    }

    /** The owning platform thread, or null for a cache shared by virtual threads. */
    final Thread owner;
    final ReentrantLock sharedLock;
    final long[] slots = new long[SizeClasses.CLASS_COUNT << CLASS_SHIFT];
    final int[] counts = new int[SizeClasses.CLASS_COUNT];
    /** Frees into this cache per class (the only fast-path counter; allocations are derived). */
    final long[] frees = new long[SizeClasses.CLASS_COUNT];
    /** Slots moved in from / out to the central lists, per class. Owner only, read racily. */
    final long[] slotsIn = new long[SizeClasses.CLASS_COUNT];
    final long[] slotsOut = new long[SizeClasses.CLASS_COUNT];

    ThreadCache(Thread owner) {
        this.owner = owner;
        this.sharedLock = owner == null ? new ReentrantLock() : null;
    }

    /** Pops a slot of class {@code c} (tagged); 0 if the stack is empty. */
    long pop(int c) {
        int n = counts[c];
        if (n == 0) {
            return 0;
        }
        counts[c] = n - 1;
        return slots[(c << CLASS_SHIFT) + n - 1];
    }

    /** Pushes a freed slot of class {@code c}; false if the stack is full. */
    boolean push(int c, long address) {
        int n = counts[c];
        if (n == CAPACITY[c]) {
            return false;
        }
        slots[(c << CLASS_SHIFT) + n] = address;
        counts[c] = n + 1;
        frees[c]++;
        return true;
    }

    /**
     * The pop slow path: refills class {@code c} with half a capacity from its central list and
     * pops one. Returns the tagged address.
     */
    long refillAndPop(int c, CentralList central) {
        int base = c << CLASS_SHIFT;
        int moved = central.refill(slots, base, Math.max(1, CAPACITY[c] / 2));
        slotsIn[c] += moved;
        counts[c] = moved - 1;
        return slots[base + moved - 1];
    }

    /** The push slow path: gives the older half of class {@code c} back to its central list, then pushes. */
    void drainHalfAndPush(int c, CentralList central, long address) {
        int base = c << CLASS_SHIFT;
        int n = counts[c];
        int half = Math.max(1, n / 2);
        central.giveBack(slots, base, half);
        System.arraycopy(slots, base + half, slots, base, n - half);
        counts[c] = n - half;
        slotsOut[c] += half;
        push(c, address);
    }

    /** Gives every cached slot back to the central lists. */
    void flush(CentralList[] centrals) {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            int n = counts[c];
            if (n > 0) {
                centrals[c].giveBack(slots, c << CLASS_SHIFT, n);
                slotsOut[c] += n;
                counts[c] = 0;
            }
        }
    }

    /** Bytes of free slots held here (racy when read by another thread). */
    long cachedBytes() {
        long total = 0;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            total += (long) counts[c] * SizeClasses.SLOT_SIZE[c];
        }
        return total;
    }
}
