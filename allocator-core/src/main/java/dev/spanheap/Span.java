package dev.spanheap;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A run of whole pages in one arena, in use either as a small-object span cut into equal slots
 * of one size class, or as one large object; Go's {@code mspan}. Free page runs are not spans:
 * the {@link PageHeap} tracks them with boundary tags.
 *
 * <p>Invariants (checked by {@link #verify}): {@code allocatedSlots} equals the number of set bits
 * in {@link #allocated} and is at most {@code capacity}; no bit is set past {@code capacity}; the
 * never-used mark {@link #neverUsedFrom} lies within {@code [0, capacity]}. A slot counts as
 * allocated from the time its span hands it to a thread cache (or, in checked mode, to the user)
 * until it comes back.
 *
 * <p>Synchronization: the identity fields are written by {@link #init} under the owning page
 * heap's lock (span structures are pooled and reused there), or by the thread whose
 * {@link PageCache} cuts the span, before the span is published. The
 * slot fields of a small span are guarded by the lock of its class's {@link CentralList}. A large
 * span's {@link #needsZero} and {@link #requestedBytes} are set with its identity fields, before it
 * is published, and not changed after; its {@link #inUse} is cleared by {@link #claimFree} only,
 * atomically, since a span cut by a page cache may be freed without a lock. A
 * lookup without a lock ({@link AddressRange#spanAt}) may see a structure being reused, so
 * every such lookup is checked again, by address, under the owning lock.
 */
final class Span {

    private static final VarHandle IN_USE;

    static {
        try {
            IN_USE = MethodHandles.lookup().findVarHandle(Span.class, "inUse", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Words of the slot bitmaps: enough for the most slots any class has (1024 of 8 bytes). */
    static final int BITMAP_WORDS = 16;

    // Identity, set by init while the page heap lock is held and the span is not reachable by a
    // legal lookup; read without a lock only by racy lookups, which re-check under a lock.
    long start;
    int pages;
    /** Page index of the first page, counted from the start of the heap's address range. */
    long firstPage;
    /** Size class, or 0 for a large object. */
    int sizeClass;
    int slotSize;
    int capacity;

    /** One bit per slot, 1 = allocated. Guarded by the central-list lock. */
    final long[] allocated = new long[BITMAP_WORDS];
    /** Checked mode only: 1 = the slot was poisoned when freed. Guarded by the central-list lock. */
    final long[] poisoned;
    /** Guarded by the central-list lock. */
    int allocatedSlots;
    /**
     * needzero for slots: slots at or above this index have not been handed out since the span's
     * pages were last zero (fresh from mmap or released). Guarded by the central-list lock.
     */
    int neverUsedFrom;
    /** Word of {@link #allocated} where the search for a free slot starts. Guarded by the central-list lock. */
    int searchWord;
    /**
     * Small spans: the shard whose central list holds this span (usually the shard of the page
     * heap that owns its arena; another one when the span was borrowed from that heap's runs).
     * Set, with the page-table entries that repeat it, when the span is made.
     */
    int listShard;
    /** Intrusive links of the central list's partial-span list. Guarded by the central-list lock. */
    Span previousPartial;
    Span nextPartial;
    boolean inPartialList;

    /** Whether some page of the span may hold non-zero bytes. Large spans: set before publication (see the class notes). */
    boolean needsZero;
    /**
     * False once freed (the structure then waits in a pool). Small spans: guarded by the page heap
     * lock. Large spans: cleared by {@link #claimFree} only, since a span cut by a
     * {@link PageCache} may be freed without a lock.
     */
    boolean inUse;
    /**
     * Large spans: cut from pages lent to a {@link PageCache}, which counts it; the page heap does
     * not (its pages are among its lent pages). Set with the identity fields.
     */
    boolean carved;
    /** Large spans: the bytes asked for (for fragmentation statistics). Set before publication (see the class notes). */
    long requestedBytes;
    /**
     * Live samples of the heap profile in this span ({@link HeapProfiler}); while it is above 0 a
     * small span's page-table entries carry {@link PageHeap#SAMPLED_SPAN_BIT}. Guarded by the
     * profiler's lock; read without it through {@link #racyLiveSamples}. 0 whenever the span is
     * freed: every sample is dropped before its block is freed.
     */
    int liveSamples;

    /** A span structure for a page heap's pool; {@link #init} gives it pages. */
    Span(boolean checked) {
        this.poisoned = checked ? new long[BITMAP_WORDS] : null;
    }

    /** A span structure initialised at once, for tests. */
    Span(long start, long firstPage, int pages, int sizeClass, boolean needsZero, boolean checked) {
        this(checked);
        init(start, firstPage, pages, sizeClass, needsZero);
    }

    /** Makes this (freed or new) structure the in-use span of the given pages, before it is published (see the class notes). */
    void init(long start, long firstPage, int pages, int sizeClass, boolean needsZero) {
        this.start = start;
        this.firstPage = firstPage;
        this.pages = pages;
        this.sizeClass = sizeClass;
        this.needsZero = needsZero;
        this.requestedBytes = 0;
        this.searchWord = 0;
        this.previousPartial = null;
        this.nextPartial = null;
        this.inPartialList = false;
        this.carved = false;
        if (sizeClass == 0) {
            this.slotSize = pages * SizeClasses.PAGE_SIZE;
            this.capacity = 1;
            this.allocatedSlots = 1;
            this.neverUsedFrom = 0;
        } else {
            java.util.Arrays.fill(allocated, 0);
            if (poisoned != null) {
                java.util.Arrays.fill(poisoned, 0);
            }
            this.slotSize = SizeClasses.SLOT_SIZE[sizeClass];
            this.capacity = SizeClasses.SLOTS_PER_SPAN[sizeClass];
            this.allocatedSlots = 0;
            this.neverUsedFrom = needsZero ? capacity : 0;
        }
        this.inUse = true;
    }

    /**
     * Marks this large span freed, atomically; false if it was not in use (a double free, or the
     * losing side of two racing frees of it). Under its page heap's lock, or by the thread whose
     * page cache frees it without one.
     */
    boolean claimFree() {
        return IN_USE.compareAndSet(this, true, false);
    }

    /**
     * {@link #liveSamples} without the profiler's lock. A thread freeing a sampled block reads
     * at least 1: the sample was counted before the block was handed out, and only that block's
     * own free takes it away.
     */
    int racyLiveSamples() {
        return liveSamples;
    }

    long bytes() {
        return (long) pages << SizeClasses.PAGE_SHIFT;
    }

    long end() {
        return start + bytes();
    }

    boolean isLarge() {
        return sizeClass == 0;
    }

    boolean isFull() {
        return allocatedSlots == capacity;
    }

    long slotAddress(int slot) {
        return start + (long) slot * slotSize;
    }

    /**
     * Slot index of {@code address} in this small span, or -1 if it is not the start of a slot.
     * Without a division: the class's {@link SizeClasses#DIVISIBILITY} constant gives both the
     * remainder test and the quotient ({@code offset} is below 2^32, a small span being a few
     * pages). Every free off the fast path asks this; its two divisions showed in a profile of
     * virtual threads' frees (docs/benchmarks.md, "Changes measured one by one"). A racily read
     * span may mix two initialisations; the class still indexes the table (class 0 holds 0, which
     * fails the test).
     */
    int slotOf(long address) {
        long offset = address - start;
        if (offset < 0 || offset >= (long) capacity * slotSize) {
            return -1;
        }
        long d = SizeClasses.DIVISIBILITY[sizeClass];
        return Long.compareUnsigned(offset * d, d) < 0 ? (int) Math.unsignedMultiplyHigh(offset, d) : -1;
    }

    boolean isAllocated(int slot) {
        return (allocated[slot >>> 6] & (1L << slot)) != 0;
    }

    private static final java.lang.invoke.VarHandle BITMAP_WORD = java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

    /**
     * {@link #isAllocated} without the central-list lock: an opaque (untorn) read of the bitmap
     * word. False means the slot is back in its span (for a caller that got the address through
     * a lock after the bit was set, a later clear is the only way to read 0); true proves nothing.
     */
    boolean isAllocatedRacy(int slot) {
        return ((long) BITMAP_WORD.getOpaque(allocated, slot >>> 6) & (1L << slot)) != 0;
    }

    /**
     * Takes the lowest free slot at or after the search hint and marks it allocated; the caller
     * has checked that the span is not full.
     */
    int takeSlot() {
        long[] bits = allocated;
        int word = searchWord;
        long free = ~bits[word];
        while (free == 0) {
            word++;
            free = ~bits[word];
        }
        int slot = (word << 6) + Long.numberOfTrailingZeros(free);
        bits[word] |= Long.lowestOneBit(free);
        searchWord = word;
        allocatedSlots++;
        return slot;
    }

    /** Marks a slot free; the caller has checked that it was allocated. */
    void returnSlot(int slot) {
        int word = slot >>> 6;
        allocated[word] &= ~(1L << slot);
        if (word < searchWord) {
            searchWord = word;
        }
        allocatedSlots--;
    }

    /**
     * Whether {@code slot}, just taken, has never been handed out since the pages were zero, and
     * records that it now has. Slots are taken lowest-first, so every slot at or above the mark is
     * untouched and a slot at the mark is the next one up.
     */
    boolean takeIsZero(int slot) {
        if (slot >= neverUsedFrom) {
            neverUsedFrom = slot + 1;
            return true;
        }
        return false;
    }

    /** Checks this span's equations; returns a description of the first broken one, or null. */
    String verify() {
        if (isLarge()) {
            return inUse ? null : "large span " + this + " is in the page map but freed";
        }
        int counted = 0;
        for (int w = 0; w < BITMAP_WORDS; w++) {
            long bits = allocated[w];
            int validInWord = Math.clamp(capacity - (w << 6), 0, 64);
            if (validInWord < 64 && (validInWord == 0 ? bits : bits >>> validInWord) != 0) {
                return "span " + this + " has bits set past its " + capacity + " slots";
            }
            counted += Long.bitCount(bits);
        }
        if (counted != allocatedSlots) {
            return "span " + this + ": bitmap has " + counted + " allocated slots, count says " + allocatedSlots;
        }
        if (allocatedSlots > capacity) {
            return "span " + this + ": " + allocatedSlots + " allocated slots, capacity " + capacity;
        }
        if (neverUsedFrom < 0 || neverUsedFrom > capacity) {
            return "span " + this + ": never-used mark " + neverUsedFrom + " outside 0.." + capacity;
        }
        if (inPartialList != (allocatedSlots < capacity)) {
            return "span " + this + ": in partial list = " + inPartialList + " with " + allocatedSlots + "/" + capacity + " allocated";
        }
        return null;
    }

    @Override
    public String toString() {
        return Errors.hex(start) + (isLarge() ? " (large, " + pages + " pages)"
                : " (class " + sizeClass + ", " + slotSize + "-byte slots, " + pages + " pages)");
    }
}
