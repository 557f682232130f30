package dev.spanheap;

/**
 * One 64 MiB arena of the heap: its page-to-span table, the boundary tags of its free runs, and
 * which of its pages may hold non-zero bytes; Go's {@code heapArena}. Allocator metadata lives
 * here on the Java heap, never inside the arena's memory.
 *
 * <p>Synchronization: every mutable field is written under the lock of the {@link #owner} page heap,
 * except, for the pages lent to a thread's {@link PageCache}, the span entries of the spans it cuts
 * and the lent run's boundary tags, which that thread writes.
 * {@link #spans} is also read without the lock (through {@link AddressRange#spanAt}) on the free
 * slow path, which then checks what it found under a lock.
 */
final class HeapArena {

    static final int SHIFT = 26;
    static final long BYTES = 1L << SHIFT;
    static final int PAGES = (int) (BYTES >>> SizeClasses.PAGE_SHIFT);

    final int index;
    final long base;
    /** The page heap that owns this arena's pages; its lock guards every field below. */
    final PageHeap owner;
    /** Page index (from the heap's base) of this arena's first page. */
    final long firstPage;

    /**
     * The in-use span starting at each page, or null (a free page, or a page inside a span: the
     * range's {@code pageInfo} gives a small span's page its distance to the span's first page;
     * inside a large span, {@link #largeSpanCovering} walks back).
     */
    final Span[] spans = new Span[PAGES];
    /** Length of the free run starting at this page, minus the length of a run lent to a {@link PageCache}, else 0. */
    final int[] freeRunAtStart = new int[PAGES];
    /** Length of the free run ending at this page, minus the length of a lent run, else 0. */
    final int[] freeRunAtEnd = new int[PAGES];
    /**
     * For a free run shorter than {@link FreeRunIndex#SHORT_RUN_LIMIT} starting at this page: the
     * first pages (heap-global) of the next and previous runs on its length's list, or -1.
     */
    final long[] runNext = new long[PAGES];
    final long[] runPrevious = new long[PAGES];
    /**
     * How many pages of the free run starting at this page are dirty: kept with the run by the
     * {@link FreeRunIndex}, so that a span cut from a run that is dirty (or clean) throughout
     * needs no pass over {@link #dirty} (docs/design.md, free runs).
     */
    final int[] freeRunDirty = new int[PAGES];
    /** When the free run starting at this page was freed ({@link AddressRange#coarseNanos()}), for the scavenger. */
    final long[] freeRunSince = new long[PAGES];
    /** One bit per page: 1 = may hold non-zero bytes (used since it was mapped or last released). */
    final long[] dirty = new long[PAGES / 64];
    /**
     * One bit per word of {@link #dirty}: 1 = that word is all ones (64 dirty pages). With it,
     * {@link #countDirty} counts a range whose inner words are all dirty without a loop over them:
     * the large-object case, a run carved from a free run that is dirty at its start, paid a loop
     * of a different trip count per allocation before (docs/benchmarks.md, "The dirty count's inner words").
     */
    private final long[] fullDirtyWords = new long[PAGES / 64 / 64];

    static {
        // allFull reads at most two summary words, with none between them.
        if (PAGES / 64 / 64 != 2) {
            throw new IllegalStateException("HeapArena.allFull assumes 128 dirty words per arena, not " + PAGES / 64);
        }
    }

    HeapArena(int index, long base, long firstPage, PageHeap owner) {
        this.index = index;
        this.base = base;
        this.owner = owner;
        this.firstPage = firstPage;
    }

    /**
     * The large span whose pages include arena-local {@code page}, found by walking back to the
     * span's first page; null when the walk meets a free run's boundary tag first (the page is
     * free) or a span that ends before the page. Read without the lock by racy lookups.
     */
    Span largeSpanCovering(int page) {
        for (int p = page; p >= 0; p--) {
            Span span = spans[p];
            if (span != null) {
                return p + span.pages > page && span.isLarge() ? span : null;
            }
            if (freeRunAtStart[p] != 0 || freeRunAtEnd[p] != 0) {
                return null;
            }
        }
        return null;
    }

    /** Counts the dirty pages among {@code [page, page + count)} (arena-local page numbers). */
    int countDirty(int page, int count) {
        if (count <= 0) {
            return 0;
        }
        int last = page + count - 1;
        int firstWord = page >>> 6;
        int lastWord = last >>> 6;
        // Shift counts are taken mod 64: the masks keep bits page % 64 and up, and last % 64 and down.
        long firstMask = -1L << page;
        long lastMask = -1L >>> (63 - (last & 63));
        if (firstWord == lastWord) {
            return Long.bitCount(dirty[firstWord] & firstMask & lastMask);
        }
        int total = Long.bitCount(dirty[firstWord] & firstMask) + Long.bitCount(dirty[lastWord] & lastMask);
        if (lastWord - firstWord > 1 && allFull(firstWord + 1, lastWord - 1)) {
            return total + ((lastWord - firstWord - 1) << 6);
        }
        for (int word = firstWord + 1; word < lastWord; word++) {
            total += Long.bitCount(dirty[word]);
        }
        return total;
    }

    /** Whether the words {@code [from, to]} of {@link #dirty} are all ones. */
    private boolean allFull(int from, int to) {
        int fromSummary = from >>> 6;
        int toSummary = to >>> 6;
        long fromMask = -1L << from;
        long toMask = -1L >>> (63 - (to & 63));
        if (fromSummary == toSummary) {
            return (~fullDirtyWords[fromSummary] & fromMask & toMask) == 0;
        }
        // An arena's 128 words take two summary words (checked when the class loads): none lies between these two.
        return (~fullDirtyWords[fromSummary] & fromMask) == 0 && (~fullDirtyWords[toSummary] & toMask) == 0;
    }

    /** Sets ({@code value} true) or clears the dirty bits of {@code [page, page + count)}. */
    void setDirty(int page, int count, boolean value) {
        int end = page + count;
        while (page < end) {
            int word = page >>> 6;
            int bit = page & 63;
            int take = Math.min(64 - bit, end - page);
            long mask = take == 64 ? -1L : ((1L << take) - 1) << bit;
            long bits = value ? dirty[word] | mask : dirty[word] & ~mask;
            dirty[word] = bits;
            if (bits == -1L) {
                fullDirtyWords[word >>> 6] |= 1L << word;
            } else {
                fullDirtyWords[word >>> 6] &= ~(1L << word);
            }
            page += take;
        }
    }

    /** Whether the summary of full words agrees with {@link #dirty}; null if it does, else what differs (for verification). */
    String verifyDirtySummary() {
        for (int word = 0; word < dirty.length; word++) {
            boolean full = (fullDirtyWords[word >>> 6] & (1L << word)) != 0;
            if (full != (dirty[word] == -1L)) {
                return "arena " + index + ": dirty word " + word + " is " + Long.toHexString(dirty[word]) + " but its summary bit says "
                        + (full ? "full" : "not full");
            }
        }
        return null;
    }

    boolean isDirty(int page) {
        return (dirty[page >>> 6] & (1L << page)) != 0;
    }
}
