package dev.spanheap;

/**
 * A platform thread's cache of the large objects it freed: whole-page spans kept as they are, to
 * serve its next large allocations of about the same size without the page heap's lock; the
 * "bounded per-thread cache of freed runs by page count" of TCMalloc's and jemalloc's thread
 * caches, for the page runs that Go's page cache does not cover. With more threads than cores,
 * a thread preempted while holding its shard's page heap lock stalled every other thread of the
 * shard for its time slice (8 threads on 2 cores, the mix to 2 MiB: most of their parks were on
 * that lock, from large allocations and frees; docs/design.md, "Large objects off the lock").
 *
 * <p><b>What is kept.</b> Spans of at most {@link #MAX_RUN_PAGES} pages of the owner's own page
 * heap ({@link #home}), at most {@link #MAX_RUNS} of them and {@link #MAX_BYTES} in all; a free
 * that would pass a bound gives the oldest run back to the page heap first. A cached span stays
 * in use as far as its page heap knows (its pages are neither free nor released); it is in state
 * {@link Span#LARGE_CACHED}, so a second free of it fails.
 *
 * <p><b>What is taken.</b> The smallest cached run of {@code pages} to {@code pages + pages/4}
 * pages (so an object wastes at most a fifth of its run, as with jemalloc's four size classes per
 * doubling); its contents are those of the object freed into it, so it needs zeroing.
 *
 * <p><b>Counting.</b> The page heap counts a cached span as a live large object; the statistics
 * subtract what the caches hold ({@link #cachedRuns}, {@link #cachedBytes},
 * {@link #cachedRequested}) and add what they served ({@link #hits}). A hit
 * changes the span's requested size, which the page heap subtracts when the span finally comes
 * back to it: {@link #requestedDrift} sums those changes, so that the page heap's sum plus the
 * drift is the requested size of the spans it has out.
 *
 * <p>Synchronization: owner thread only (the thread of the {@link ThreadCache} that holds it, or
 * the registry after that thread ended); counters read racily by statistics.
 */
final class LargeRunCache {

    /** Runs kept at most. */
    static final int MAX_RUNS = 8;
    /** The longest run kept: 256 KiB. */
    static final int MAX_RUN_PAGES = 32;
    /** Bytes of runs kept at most. */
    static final long MAX_BYTES = 1L << 20;

    /** The page heap of the owner's shard: only its spans are kept, and they go back to it. */
    final PageHeap home;
    /** The cached spans, oldest first, in {@code [0, cachedRuns)}. */
    private final Span[] runs = new Span[MAX_RUNS];
    int cachedRuns;
    long cachedBytes;
    /** The requested sizes of the cached spans (as the page heap counts them). */
    long cachedRequested;
    /** Large allocations served from here, and the requested-size drift (see the class comment). */
    long hits;
    long requestedDrift;

    LargeRunCache(PageHeap home) {
        this.home = home;
    }

    /** Whether a freed span of {@code pages} pages whose arena belongs to {@code owner} may be kept here. */
    boolean keeps(int pages, PageHeap owner) {
        return pages <= MAX_RUN_PAGES && owner == home;
    }

    /**
     * A cached span of {@code pages} to {@code pages + pages/4} pages, now live again as an
     * object of {@code requestedBytes} bytes; null if none fits.
     */
    Span take(int pages, long requestedBytes) {
        int best = -1;
        int most = pages + (pages >> 2);
        for (int i = 0; i < cachedRuns; i++) {
            int p = runs[i].pages;
            if (p >= pages && p <= most && (best < 0 || p < runs[best].pages)) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        Span span = runs[best];
        remove(best);
        requestedDrift += requestedBytes - span.requestedBytes;
        span.requestedBytes = requestedBytes;
        span.moveLargeState(Span.LARGE_CACHED, Span.LARGE_LIVE);
        hits++;
        return span;
    }

    /**
     * Keeps {@code span}, which the caller moved to {@link Span#LARGE_CACHED} ({@link #keeps} was
     * true), giving the oldest runs back to the page heap first while a bound would be passed.
     */
    void store(Span span) {
        while (cachedRuns == MAX_RUNS || cachedBytes + span.bytes() > MAX_BYTES) {
            evictOldest();
        }
        span.needsZero = true;
        runs[cachedRuns++] = span;
        cachedBytes += span.bytes();
        cachedRequested += span.requestedBytes;
    }

    /** Gives every cached run back to the page heap. */
    void flush() {
        while (cachedRuns > 0) {
            evictOldest();
        }
    }

    private void evictOldest() {
        Span span = runs[0];
        remove(0);
        boolean moved = span.moveLargeState(Span.LARGE_CACHED, Span.LARGE_FREEING);
        if (!moved || !home.freeLarge(span, span.start)) {
            throw new IllegalStateException("cached large span " + span + " could not go back to its page heap");
        }
    }

    /** Takes the run at {@code index} out, keeping the others in age order. */
    private void remove(int index) {
        Span span = runs[index];
        System.arraycopy(runs, index + 1, runs, index, cachedRuns - index - 1);
        runs[--cachedRuns] = null;
        cachedBytes -= span.bytes();
        cachedRequested -= span.requestedBytes;
    }
}
