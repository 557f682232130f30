package dev.spanheap;

/**
 * A run of whole pages in one arena, in use either as a small-object span cut into equal slots
 * of one size class, or as one large object; Go's {@code mspan}. Free page runs are not spans:
 * the {@link PageHeap} tracks them with boundary tags.
 *
 * <p>Invariants (checked by {@link #verify}): {@code allocatedSlots + freeSlots == capacity}, and
 * {@code allocatedSlots} equals the number of set bits in {@link #allocated}. A slot counts as
 * allocated from the time its span hands it to a thread cache (or, in checked mode, to the user)
 * until it comes back.
 *
 * <p>Synchronization: the identity fields are final. The slot fields of a small span are guarded
 * by the lock of its class's {@link CentralList}; {@link #inUse} and {@link #needsZero} of a large
 * span are guarded by the page heap lock.
 */
final class Span {

    final long start;
    final int pages;
    /** Page index of the first page, counted from the start of the heap's address range. */
    final long firstPage;
    /** Size class, or 0 for a large object. */
    final int sizeClass;
    final int slotSize;
    final int capacity;

    /** One bit per slot, 1 = allocated. Guarded by the central-list lock. */
    final long[] allocated;
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
    /** Intrusive links of the central list's partial-span list. Guarded by the central-list lock. */
    Span previousPartial;
    Span nextPartial;
    boolean inPartialList;

    /** Whether some page of the span may hold non-zero bytes. Large spans: guarded by the heap lock. */
    boolean needsZero;
    /** Large spans: false once freed. Guarded by the heap lock. */
    boolean inUse = true;
    /** Large spans: the bytes asked for (for fragmentation statistics). Guarded by the heap lock. */
    long requestedBytes;

    Span(long start, long firstPage, int pages, int sizeClass, boolean needsZero, boolean checked) {
        this.start = start;
        this.firstPage = firstPage;
        this.pages = pages;
        this.sizeClass = sizeClass;
        this.needsZero = needsZero;
        if (sizeClass == 0) {
            this.slotSize = pages * SizeClasses.PAGE_SIZE;
            this.capacity = 1;
            this.allocated = null;
            this.poisoned = null;
            this.allocatedSlots = 1;
        } else {
            this.slotSize = SizeClasses.SLOT_SIZE[sizeClass];
            this.capacity = SizeClasses.SLOTS_PER_SPAN[sizeClass];
            this.allocated = new long[(capacity + 63) >>> 6];
            this.poisoned = checked ? new long[allocated.length] : null;
            this.neverUsedFrom = needsZero ? capacity : 0;
        }
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

    /** Slot index of {@code address}, or -1 if it is not the start of a slot. */
    int slotOf(long address) {
        long offset = address - start;
        if (offset < 0 || offset >= (long) capacity * slotSize || offset % slotSize != 0) {
            return -1;
        }
        return (int) (offset / slotSize);
    }

    boolean isAllocated(int slot) {
        return (allocated[slot >>> 6] & (1L << slot)) != 0;
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
        for (int w = 0; w < allocated.length; w++) {
            long bits = allocated[w];
            int validInWord = Math.min(64, capacity - (w << 6));
            if (validInWord < 64 && (bits >>> validInWord) != 0) {
                return "span " + this + " has bits set past its " + capacity + " slots";
            }
            counted += Long.bitCount(bits);
        }
        if (counted != allocatedSlots) {
            return "span " + this + ": bitmap has " + counted + " allocated slots, count says " + allocatedSlots;
        }
        int freeSlots = capacity - counted;
        if (allocatedSlots + freeSlots != capacity || allocatedSlots < 0) {
            return "span " + this + ": allocated " + allocatedSlots + " + free " + freeSlots + " != capacity " + capacity;
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
