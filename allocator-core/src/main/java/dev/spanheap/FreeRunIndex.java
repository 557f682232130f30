package dev.spanheap;

/**
 * One page heap's free page runs: boundary tags in each arena (a run's length at its first and
 * last page) and an ordered index of {@code length << 40 | firstPage} keys; the page allocator of
 * Go's {@code mheap.pages}, with a tree instead of Go's bitmap. See {@code package-info.java}.
 *
 * <p>An allocation takes the shortest run that fits, the lowest-addressed among equals
 * (address-ordered best fit, one tree descent, no scan); a run that is inserted merges at once with
 * free neighbours, so no two runs ever touch. Runs never cross arena boundaries.
 *
 * <p>Synchronization: guarded by the owning {@link PageHeap}'s lock, like the tags in its arenas.
 */
final class FreeRunIndex {

    static final long NONE = LongTreeSet.NONE;
    private static final int KEY_PAGE_BITS = 40;
    private static final long KEY_PAGE_MASK = (1L << KEY_PAGE_BITS) - 1;

    private final LongTreeSet runs = new LongTreeSet();

    static long start(long key) {
        return key & KEY_PAGE_MASK;
    }

    static int length(long key) {
        return (int) (key >>> KEY_PAGE_BITS);
    }

    /** The key of the shortest, then lowest, run of at least {@code pages} pages, or {@link #NONE}. */
    long bestFit(long pages) {
        return runs.ceiling(pages << KEY_PAGE_BITS);
    }

    /** Records a free run at arena-local {@code [start, start + length)}; it must touch no other run. */
    void insert(HeapArena arena, int start, int length, long since) {
        arena.freeRunAtStart[start] = length;
        arena.freeRunAtEnd[start + length - 1] = length;
        arena.freeRunSince[start] = since;
        runs.add((long) length << KEY_PAGE_BITS | (arena.firstPage + start));
    }

    /** Forgets the free run at arena-local {@code start} of {@code length} pages. */
    void remove(HeapArena arena, int start, int length) {
        arena.freeRunAtStart[start] = 0;
        arena.freeRunAtEnd[start + length - 1] = 0;
        boolean removed = runs.remove((long) length << KEY_PAGE_BITS | (arena.firstPage + start));
        assert removed : "free run " + start + "+" + length + " missing from the index";
    }

    /** Inserts a free run, first merging it with free neighbours so that no two runs touch. */
    void coalesceAndInsert(HeapArena arena, int start, int length, long since) {
        if (start > 0) {
            int before = arena.freeRunAtEnd[start - 1];
            if (before > 0) {
                remove(arena, start - before, before);
                start -= before;
                length += before;
            }
        }
        int end = start + length;
        if (end < HeapArena.PAGES) {
            int after = arena.freeRunAtStart[end];
            if (after > 0) {
                remove(arena, end, after);
                length += after;
            }
        }
        insert(arena, start, length, since);
    }

    boolean contains(HeapArena arena, int start, int length) {
        return runs.contains((long) length << KEY_PAGE_BITS | (arena.firstPage + start));
    }

    /** Keys from the shortest run up ({@link #NONE} past the end). */
    long first() {
        return runs.first();
    }

    long higher(long key) {
        return runs.higher(key);
    }

    /** Keys from the longest run down ({@link #NONE} past the end). */
    long last() {
        return runs.last();
    }

    long lower(long key) {
        return runs.lower(key);
    }

    /** Length in pages of the longest free run, 0 if none. */
    long longestPages() {
        return runs.isEmpty() ? 0 : length(runs.last());
    }

    int count() {
        return runs.size();
    }
}
