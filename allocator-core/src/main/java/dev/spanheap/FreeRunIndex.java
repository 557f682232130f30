package dev.spanheap;

import java.util.function.LongPredicate;

/**
 * One page heap's free page runs: boundary tags in each arena (a run's length at its first and
 * last page), per-length lists of the short runs, and an ordered tree of the long ones; the page
 * allocator of Go's {@code mheap.pages}, with TCMalloc's classic split instead of Go's radix
 * bitmap. See {@code package-info.java}.
 *
 * <p><b>Best fit.</b> An allocation takes the shortest run that fits. A run shorter than
 * {@link #SHORT_RUN_LIMIT} pages sits on the list for its length (intrusive, through the arena's
 * {@link HeapArena#runNext}/{@link HeapArena#runPrevious} at its first page), and a two-word
 * bitmap says which lengths have a run: a request for fewer pages finds the shortest non-empty
 * length that fits with one mask and one count of trailing zeros, and takes that list's head, in
 * O(1) (the most recently freed run of that length, likely still in cache). Longer runs, and
 * requests no short run fits, use a {@link LongTreeSet} of {@code length << 40 | firstPage}: the
 * shortest long run, the lowest-addressed among equals, in one descent; one long run (the spare,
 * see {@link #spareLongRun}) is kept beside the tree so that carving span after span from the
 * rest of an arena, and merging them back, costs no tree work. A run that is inserted merges at
 * once with free neighbours, so no two runs ever touch. Runs never cross arenas.
 *
 * <p>Synchronization: guarded by the owning {@link PageHeap}'s lock, like the tags in its arenas.
 */
final class FreeRunIndex {

    static final long NONE = LongTreeSet.NONE;
    /** Runs shorter than this many pages (1 MiB) are kept on per-length lists. */
    static final int SHORT_RUN_LIMIT = 128;
    private static final int KEY_PAGE_BITS = 40;
    private static final long KEY_PAGE_MASK = (1L << KEY_PAGE_BITS) - 1;
    private static final long NO_RUN = -1;

    private final AddressRange range;
    private final LongTreeSet longRuns = new LongTreeSet();
    /**
     * Longs of padding at each end of the arrays below, written on most span operations: another
     * shard's index, placed beside this one on the Java heap, must not share their cache lines.
     */
    private static final int PAD = 8;
    /** First page (heap-global) of the head run of each short length ({@code PAD + length}), or {@link #NO_RUN}. */
    private final long[] shortHeads = new long[PAD + SHORT_RUN_LIMIT + PAD];
    /** Bit {@code n} of word {@code PAD + n / 64} set: the list of runs of {@code n} pages is not empty. */
    private final long[] shortLengths = new long[PAD + SHORT_RUN_LIMIT / 64 + PAD];
    // Written on most span operations too, padded by a cache line on each side (the JVM lays out
    // an object's long fields together, in this order).
    @SuppressWarnings("unused")
    private long padBefore0, padBefore1, padBefore2, padBefore3, padBefore4, padBefore5, padBefore6, padBefore7;
    private long shortRunCount;
    /**
     * One long run kept out of the tree (dlmalloc's "top", Go's current chunk): usually the rest
     * of the newest arena, which span after span is carved from and merged back into. Taking it,
     * and putting its rest back, are then O(1) instead of a tree removal and insertion each.
     * Its key, or {@link #NONE}.
     */
    private long spareLongRun = NONE;
    @SuppressWarnings("unused")
    private long padAfter0, padAfter1, padAfter2, padAfter3, padAfter4, padAfter5, padAfter6, padAfter7;

    FreeRunIndex(AddressRange range) {
        this.range = range;
        java.util.Arrays.fill(shortHeads, NO_RUN);
    }

    static long key(long firstPage, int length) {
        return (long) length << KEY_PAGE_BITS | firstPage;
    }

    static long start(long key) {
        return key & KEY_PAGE_MASK;
    }

    static int length(long key) {
        return (int) (key >>> KEY_PAGE_BITS);
    }

    /** The key of the shortest run of at least {@code pages} pages, or {@link #NONE}. */
    long bestFit(long pages) {
        if (pages < SHORT_RUN_LIMIT) {
            int n = (int) pages;
            for (int word = n >>> 6; word < SHORT_RUN_LIMIT / 64; word++) {
                long fits = shortLengths[PAD + word] & (word == n >>> 6 ? -1L << n : -1L);
                if (fits != 0) {
                    int length = (word << 6) + Long.numberOfTrailingZeros(fits);
                    return key(shortHeads[PAD + length], length);
                }
            }
        }
        long fromTree = longRuns.ceiling(key(0, (int) Math.max(pages, SHORT_RUN_LIMIT)));
        if (spareLongRun == NONE || length(spareLongRun) < pages) {
            return fromTree;
        }
        // The shorter of the two, then the lower address, as if the spare were in the tree.
        return fromTree == NONE || Long.compareUnsigned(spareLongRun, fromTree) < 0 ? spareLongRun : fromTree;
    }

    /**
     * Records a free run at arena-local {@code [start, start + length)} of which
     * {@code dirtyPages} are dirty; it must touch no other run.
     */
    void insert(HeapArena arena, int start, int length, int dirtyPages, long since) {
        arena.freeRunAtStart[start] = length;
        arena.freeRunDirty[start] = dirtyPages;
        arena.freeRunAtEnd[start + length - 1] = length;
        arena.freeRunSince[start] = since;
        long page = arena.firstPage + start;
        if (length >= SHORT_RUN_LIMIT) {
            if (spareLongRun == NONE) {
                spareLongRun = key(page, length);
            } else {
                longRuns.add(key(page, length));
            }
            return;
        }
        long next = shortHeads[PAD + length];
        arena.runNext[start] = next;
        arena.runPrevious[start] = NO_RUN;
        if (next != NO_RUN) {
            HeapArena nextArena = range.arenaOfPage(next);
            nextArena.runPrevious[(int) (next - nextArena.firstPage)] = page;
        }
        shortHeads[PAD + length] = page;
        shortLengths[PAD + (length >>> 6)] |= 1L << length;
        shortRunCount++;
    }

    /** Forgets the free run at arena-local {@code start} of {@code length} pages. */
    void remove(HeapArena arena, int start, int length) {
        arena.freeRunAtStart[start] = 0;
        arena.freeRunAtEnd[start + length - 1] = 0;
        if (length >= SHORT_RUN_LIMIT) {
            long key = key(arena.firstPage + start, length);
            if (key == spareLongRun) {
                spareLongRun = NONE;
            } else {
                boolean removed = longRuns.remove(key);
                assert removed : "free run " + start + "+" + length + " missing from the index";
            }
            return;
        }
        long previous = arena.runPrevious[start];
        long next = arena.runNext[start];
        if (previous == NO_RUN) {
            assert shortHeads[PAD + length] == arena.firstPage + start : "free run " + start + "+" + length + " is not its list's head";
            shortHeads[PAD + length] = next;
            if (next == NO_RUN) {
                shortLengths[PAD + (length >>> 6)] &= ~(1L << length);
            }
        } else {
            HeapArena previousArena = range.arenaOfPage(previous);
            previousArena.runNext[(int) (previous - previousArena.firstPage)] = next;
        }
        if (next != NO_RUN) {
            HeapArena nextArena = range.arenaOfPage(next);
            nextArena.runPrevious[(int) (next - nextArena.firstPage)] = previous;
        }
        shortRunCount--;
    }

    /** Inserts a free run ({@code dirtyPages} of it dirty), first merging it with free neighbours so that no two runs touch. */
    void coalesceAndInsert(HeapArena arena, int start, int length, int dirtyPages, long since) {
        if (start > 0) {
            int before = arena.freeRunAtEnd[start - 1];
            if (before > 0) {
                remove(arena, start - before, before);
                start -= before;
                length += before;
                dirtyPages += arena.freeRunDirty[start];
            }
        }
        int end = start + length;
        if (end < HeapArena.PAGES) {
            int after = arena.freeRunAtStart[end];
            if (after > 0) {
                remove(arena, end, after);
                length += after;
                dirtyPages += arena.freeRunDirty[end];
            }
        }
        insert(arena, start, length, dirtyPages, since);
    }

    /**
     * Dirty pages of arena-local {@code [local, local + pages)}, inside the free run at
     * {@code runStart} of {@code runLength} pages: from the run's count when it is dirty or
     * clean throughout, else counted from the bits.
     */
    static int dirtyPagesIn(HeapArena arena, int runStart, int runLength, int local, int pages) {
        int runDirty = arena.freeRunDirty[runStart];
        return runDirty == runLength ? pages : runDirty == 0 ? 0 : arena.countDirty(local, pages);
    }

    /** Whether the run at arena-local {@code start} of {@code length} pages is indexed (a walk of its list: for checks). */
    boolean contains(HeapArena arena, int start, int length) {
        long page = arena.firstPage + start;
        if (length >= SHORT_RUN_LIMIT) {
            return key(page, length) == spareLongRun || longRuns.contains(key(page, length));
        }
        for (long p = shortHeads[PAD + length]; p != NO_RUN; ) {
            if (p == page) {
                return true;
            }
            HeapArena a = range.arenaOfPage(p);
            p = a.runNext[(int) (p - a.firstPage)];
        }
        return false;
    }

    /**
     * Offers every run's key to {@code visitor}, longest first (the long runs in descending order,
     * then each short length's list), until it returns false. The visitor must not change the index.
     */
    void visitLongestFirst(LongPredicate visitor) {
        boolean spareVisited = spareLongRun == NONE;
        for (long key = longRuns.last(); key != NONE; key = longRuns.lower(key)) {
            if (!spareVisited && Long.compareUnsigned(spareLongRun, key) > 0) {
                spareVisited = true;
                if (!visitor.test(spareLongRun)) {
                    return;
                }
            }
            if (!visitor.test(key)) {
                return;
            }
        }
        if (!spareVisited && !visitor.test(spareLongRun)) {
            return;
        }
        for (int length = SHORT_RUN_LIMIT - 1; length > 0; length--) {
            for (long p = shortHeads[PAD + length]; p != NO_RUN; ) {
                if (!visitor.test(key(p, length))) {
                    return;
                }
                HeapArena a = range.arenaOfPage(p);
                p = a.runNext[(int) (p - a.firstPage)];
            }
        }
    }

    /** Length in pages of the longest free run, 0 if none. */
    long longestPages() {
        if (!longRuns.isEmpty() || spareLongRun != NONE) {
            return Math.max(longRuns.isEmpty() ? 0 : length(longRuns.last()), spareLongRun == NONE ? 0 : length(spareLongRun));
        }
        for (int word = SHORT_RUN_LIMIT / 64 - 1; word >= 0; word--) {
            if (shortLengths[PAD + word] != 0) {
                return (word << 6) + 63 - Long.numberOfLeadingZeros(shortLengths[PAD + word]);
            }
        }
        return 0;
    }

    int count() {
        return longRuns.size() + (int) shortRunCount + (spareLongRun == NONE ? 0 : 1);
    }

    /** Checks the short lists' links and the length bitmap against the lists; null if all agree. */
    String verify() {
        int counted = 0;
        for (int length = 1; length < SHORT_RUN_LIMIT; length++) {
            boolean listed = shortHeads[PAD + length] != NO_RUN;
            if (listed != ((shortLengths[PAD + (length >>> 6)] & (1L << length)) != 0)) {
                return "free runs of " + length + " pages: list " + (listed ? "has runs" : "is empty") + " but the bitmap disagrees";
            }
            long previous = NO_RUN;
            for (long p = shortHeads[PAD + length]; p != NO_RUN; ) {
                HeapArena a = range.arenaOfPage(p);
                int local = (int) (p - a.firstPage);
                if (a.runPrevious[local] != previous) {
                    return "free run at page " + p + " links back to " + a.runPrevious[local] + ", not " + previous;
                }
                if (a.freeRunAtStart[local] != length) {
                    return "free run at page " + p + " is on the " + length + "-page list but is " + a.freeRunAtStart[local] + " pages";
                }
                if (++counted > shortRunCount) {
                    return "short free-run lists hold more runs than the " + shortRunCount + " counted (a cycle?)";
                }
                previous = p;
                p = a.runNext[local];
            }
        }
        return counted == shortRunCount ? null : "short free-run lists hold " + counted + " runs, " + shortRunCount + " counted";
    }
}
