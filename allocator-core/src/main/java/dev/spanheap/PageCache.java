package dev.spanheap;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One platform thread's run of free pages for its large objects, cut and merged without a lock:
 * Go's {@code pageCache} (a chunk of pages a P allocates from without the heap lock) applied to
 * large objects instead of small spans. See docs/design.md, "Page caches for large objects".
 *
 * <p><b>Where the run comes from.</b> When the thread frees its most recent large allocation, of at
 * most {@link #maxPages} pages ({@link SpanHeapConfig#pageCacheBytes}), the page heap that owns it
 * counts it freed, under its lock, and lends its pages to this cache instead of putting them in its
 * free-run index ({@link PageHeap#freeLargeIntoCache}); the run this cache held before goes back to
 * the index in the same hold of the lock ({@link #mayLend}). A run that does not fit an allocation
 * goes back to the index before the page heap searches it ({@link #takeBackInto}).
 *
 * <p><b>What uses it without a lock.</b> A large allocation by the thread that fits the run is cut
 * from the run's start ({@link #carve}). A span cut that way and freed by the thread while it still
 * ends where the run begins goes back onto the run ({@link #freeWithoutLock}): the stack order of
 * allocate-then-free, where glibc reuses its top chunk. A cut span the thread frees while it holds
 * no run becomes the run. Everything else takes the page heap's lock as before.
 *
 * <p><b>Pages.</b> All pages of the run are held and dirty (a live object's pages were), so cutting
 * needs neither the dirty bitmap nor the limit: the cache writes only the arena's span entries of
 * the spans it cuts and the run's two boundary tags, {@code -length} at its first and last page,
 * which the page heap's coalescing reads as "not free" and {@link PageHeap#verify} as "lent". The
 * page heap counts lent pages ({@code lentPages}) whether or not they are cut; it does not count
 * the spans cut from them, and this cache's counters do, with the page heaps' counts of cut spans
 * freed under their locks (the sums are exact at rest: {@link HeapStatsCollector}).
 *
 * <p><b>Frees that race.</b> A cut span may be freed by another thread (under the page heap's lock)
 * while this thread frees it too (a double free): {@link Span#claimFree} decides, atomically,
 * which of them frees it; the other gets the double-free error.
 *
 * <p><b>Memory return.</b> A run is free memory, so it must not stay out of the OS's reach while
 * its thread sleeps: each scavenger pass takes back the runs that were not used since the one
 * before ({@link #takeBackIfIdle}, a use bit as in the clock algorithm), and an explicit release
 * takes back every run ({@link #takeBack}); the pages return to their page heap's index, where
 * the scavenger's usual delay applies.
 *
 * <p>Synchronization: the owner thread works on the run, and another thread takes it back,
 * inside {@link #STATE}, a try-lock of one compare-and-set that nobody waits for: the owner that
 * finds it taken uses the page heap instead, a taker that finds it taken skips the run. The
 * counters are written by the owner only and read racily (exact at rest).
 */
final class PageCache {

    /**
     * Span structures kept for the next cuts, so that a cut allocates nothing on the Java heap; each
     * hold of a page heap's lock on the owner's behalf brings the pool back to half full from or
     * into that heap's pool ({@link #balancePool}), so that neither side runs dry or overflows.
     */
    private static final int POOL_SIZE = 8;
    private static final VarHandle SPAN_ENTRY = MethodHandles.arrayElementVarHandle(Span[].class);
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    /**
     * Longs of padding at each end of {@link #words}: written on every cut and merge, they must not
     * share a cache line with another thread's page cache (the GC may place two side by side).
     */
    private static final int PAD = 8;
    /** References of padding at each end of {@link #pool} (16 compressed references to a cache line). */
    private static final int POOL_PAD = 16;
    /** In {@link #words}: 1 while the owner works on the run or another thread takes it back, else 0 (see the class notes). */
    private static final int STATE = PAD;
    /** Set by each use of the run, cleared by each scavenger pass that finds it set. Races are harmless. */
    private static final int USED = PAD + 1;
    /** The run's first page, arena-local, and its length in pages (0 when there is none). */
    private static final int LOCAL = PAD + 2;
    private static final int PAGES = PAD + 3;
    private static final int POOLED = PAD + 4;
    /** Spans cut, and cut spans freed without a lock. */
    private static final int ALLOCATIONS = PAD + 5;
    private static final int FREES = PAD + 6;
    /**
     * Spans cut minus cut spans freed without a lock, and their bytes and requested bytes: signed
     * (a span cut here may be freed by another thread, under a page heap's lock, or by another
     * cache).
     */
    private static final int LIVE_SPANS = PAD + 7;
    private static final int LIVE_BYTES = PAD + 8;
    private static final int LIVE_REQUESTED = PAD + 9;
    /** The start of the owner's most recent large allocation (see {@link #mayLend}). */
    private static final int LAST_ALLOCATED = PAD + 10;
    /** The fields above, padded; owner thread only except {@link #STATE} (and racy reads of the counters). */
    private final long[] words = new long[LAST_ALLOCATED + 1 + PAD];

    /** The longest run this cache holds, and the largest object it takes ({@link SpanHeapConfig#pageCacheBytes}). */
    final int maxPages;

    /** The run's arena, or null when the cache holds no run; written only when it changes. */
    private HeapArena arena;

    /** Span structures for the next cuts at {@code [POOL_PAD, POOL_PAD + POOL_SIZE)}, padded like {@link #words} (written on every cut and merge). */
    private final Span[] pool = new Span[POOL_PAD + POOL_SIZE + POOL_PAD];

    PageCache(int maxPages) {
        this.maxPages = maxPages;
    }

    /**
     * A large span of {@code want} pages for {@code requestedBytes}, cut from the start of the run,
     * or null when the cache holds no run that long. Its memory is not known to be zero.
     */
    Span carve(int want, long requestedBytes) {
        long[] w = words;
        if (want > w[PAGES] || !enter()) {
            return null;
        }
        int pages = (int) w[PAGES];
        if (want > pages) {
            leave();
            return null;
        }
        HeapArena a = arena;
        int at = (int) w[LOCAL];
        int pooled = (int) w[POOLED];
        Span span;
        if (pooled > 0) {
            span = pool[POOL_PAD + --pooled];
            w[POOLED] = pooled;
        } else {
            span = new Span(false);
        }
        span.init(a.base + ((long) at << SizeClasses.PAGE_SHIFT), a.firstPage + at, want, 0, true);
        span.requestedBytes = requestedBytes;
        span.carved = true;
        a.freeRunAtStart[at] = 0;
        if (want == pages) {
            a.freeRunAtEnd[at + want - 1] = 0;
            setRun(null, 0, 0);
        } else {
            setRun(a, at + want, pages - want);
        }
        // Released: a thread that is handed the address through a happens-before edge finds the
        // span initialised; a racy lookup re-checks under a lock anyway.
        SPAN_ENTRY.setRelease(a.spans, at, span);
        w[USED] = 1;
        w[ALLOCATIONS]++;
        w[LIVE_SPANS]++;
        w[LIVE_BYTES] += span.bytes();
        w[LIVE_REQUESTED] += requestedBytes;
        leave();
        return span;
    }

    /**
     * Frees {@code span}, a large object of this thread's in {@code spanArena} at its start, without
     * a lock if it was cut from a page cache and either ends where this cache's run begins (it
     * joins the run) or this cache holds no run (it becomes the run); false, with nothing done,
     * otherwise.
     *
     * @throws IllegalArgumentException if the span is not in use (a double free)
     */
    boolean freeWithoutLock(HeapArena spanArena, Span span, String operation) {
        if (!span.carved || !enter()) {
            return false;
        }
        long[] w = words;
        int pages = (int) w[PAGES];
        int local = (int) w[LOCAL];
        int at = (int) (span.firstPage - spanArena.firstPage);
        boolean joins = pages > 0 && spanArena == arena && at + span.pages == local && pages + span.pages <= maxPages;
        if (!joins && (pages > 0 || span.pages > maxPages)) {
            leave();
            return false;
        }
        if (!span.claimFree()) {
            leave();
            throw Errors.inFreePages(operation, span.start);
        }
        spanArena.spans[at] = null;
        if (joins) {
            spanArena.freeRunAtStart[local] = 0;
            setRun(spanArena, at, pages + span.pages);
        } else {
            setRun(spanArena, at, span.pages);
        }
        w[USED] = 1;
        w[FREES]++;
        w[LIVE_SPANS]--;
        w[LIVE_BYTES] -= span.bytes();
        w[LIVE_REQUESTED] -= span.requestedBytes;
        keep(span);
        leave();
        return true;
    }

    /**
     * Brings the pool of span structures to half full, giving the extra ones to {@code heap}'s pool
     * or taking missing ones from it. Owner thread, inside {@link #enter}, holding {@code heap}'s lock.
     */
    void balancePool(PageHeap heap) {
        int pooled = (int) words[POOLED];
        while (pooled > POOL_SIZE / 2) {
            heap.pool(pool[POOL_PAD + --pooled]);
        }
        Span span;
        while (pooled < POOL_SIZE / 2 && (span = heap.pooledSpan()) != null) {
            pool[POOL_PAD + pooled++] = span;
        }
        words[POOLED] = pooled;
    }

    /** Notes {@code span}, a large object the owner was just handed, for {@link #mayLend}. Owner thread. */
    void allocated(Span span) {
        words[LAST_ALLOCATED] = span.start;
    }

    /**
     * Whether {@code span}, a large object of {@code spanArena} the owner frees, may become the run:
     * when it is the owner's most recent large allocation (the stack order of allocate-then-free,
     * which the run then serves without a lock: a block freed out of that order, as in a window of
     * live blocks, would only keep its pages from the page heap's best fit), and the cache holds
     * no run or one of the same page heap (whose lock the free then takes once, as without a page
     * cache). Owner thread.
     */
    boolean mayLend(HeapArena spanArena, Span span) {
        HeapArena a = arena;
        return span.start == words[LAST_ALLOCATED] && (a == null || a.owner == spanArena.owner);
    }

    /**
     * Keeps {@code span}, a freed span structure, for the next cut if the pool has room (else the
     * caller pools it, or the GC takes it): cuts must allocate nothing in a steady state, whichever
     * path freed the spans they replace. Owner thread, inside {@link #enter}.
     */
    boolean keep(Span span) {
        int pooled = (int) words[POOLED];
        if (pooled == POOL_SIZE) {
            return false;
        }
        pool[POOL_PAD + pooled] = span;
        words[POOLED] = pooled + 1;
        return true;
    }

    /**
     * Makes arena-local {@code [at, at + length)} of {@code runArena} this cache's run (its pages
     * lent already) and returns the run it held before, packed by {@link #packRun}, or 0 when it
     * held none. Called on the owner thread by the page heap lending the pages, holding its lock,
     * after a successful {@link #enter} (it calls {@link #leave}).
     */
    long replaceRun(HeapArena runArena, int at, int length) {
        long previous = arena == null ? 0 : packRun(arena.index, (int) words[LOCAL], (int) words[PAGES]);
        setRun(runArena, at, length);
        words[USED] = 1;
        return previous;
    }

    /**
     * Takes the run back to its page heap's index unless it was used since the last call (which
     * then only clears the use bit). Any thread (the scavenger, holding the registry lock).
     */
    void takeBackIfIdle() {
        if (words[PAGES] == 0) {
            return;
        }
        if (words[USED] != 0) {
            words[USED] = 0;
            return;
        }
        takeBack();
    }

    /**
     * Takes the run, if any, back to its page heap's index, unless the owner is working on it at
     * this moment. Any thread; never holding a page heap lock.
     */
    void takeBack() {
        if (words[PAGES] == 0 || !enter()) {
            return;
        }
        HeapArena a = arena;
        int at = (int) words[LOCAL];
        int length = (int) words[PAGES];
        setRun(null, 0, 0);
        leave();
        if (a != null) {
            // The tags stay -length until the page heap clears them: the run is lent until then.
            a.owner.takeBackRun(a, at, length);
        }
    }

    /** Whether the cache's run, if any, is {@code heap}'s (or there is none). Owner thread. */
    boolean runIsOf(PageHeap heap) {
        HeapArena a = arena;
        return a == null || a.owner == heap;
    }

    /**
     * Gives the run, if it is {@code heap}'s, back to its index, and balances the pool of span
     * structures with {@code heap}'s; the caller holds {@code heap}'s lock. Owner thread.
     */
    void takeBackInto(PageHeap heap) {
        if (!enter()) {
            return;
        }
        balancePool(heap);
        // Read inside enter: a taker may have taken the run since the caller looked at it.
        HeapArena a = arena;
        if (a == null || a.owner != heap) {
            leave();
            return;
        }
        int at = (int) words[LOCAL];
        int length = (int) words[PAGES];
        setRun(null, 0, 0);
        leave();
        heap.takeBackRunLocked(a, at, length);
    }

    /** Takes {@link #STATE}, or says that another thread has it; never waits. */
    boolean enter() {
        return WORD.compareAndSet(words, STATE, 0L, 1L);
    }

    void leave() {
        WORD.setRelease(words, STATE, 0L);
    }

    /**
     * What page caches count, one cache's or several summed ({@link #plus}): spans cut, cut spans
     * freed without a lock, and the cut spans those leave live with their bytes and requested
     * bytes (signed, see {@link #LIVE_SPANS}); the bytes and number of runs held.
     */
    record Counts(long allocations, long frees, long liveSpans, long liveBytes, long liveRequestedBytes, long runBytes,
            long runs) {

        static final Counts NONE = new Counts(0, 0, 0, 0, 0, 0, 0);

        Counts plus(Counts o) {
            return new Counts(allocations + o.allocations, frees + o.frees, liveSpans + o.liveSpans, liveBytes + o.liveBytes,
                    liveRequestedBytes + o.liveRequestedBytes, runBytes + o.runBytes, runs + o.runs);
        }
    }

    /** This cache's {@link Counts}, read racily (exact at rest). */
    Counts counts() {
        long[] w = words;
        return new Counts(w[ALLOCATIONS], w[FREES], w[LIVE_SPANS], w[LIVE_BYTES], w[LIVE_REQUESTED], w[PAGES] << SizeClasses.PAGE_SHIFT,
                arena != null ? 1 : 0);
    }

    /** Whether the run, if any, is well formed (its tags, its length, no span entry at its start); the problem, or null. At rest. */
    String verify() {
        int local = (int) words[LOCAL];
        int pages = (int) words[PAGES];
        if (arena == null) {
            return pages == 0 ? null : "a page cache without a run counts " + pages + " pages";
        }
        if (pages <= 0 || pages > maxPages || arena.freeRunAtStart[local] != -pages || arena.freeRunAtEnd[local + pages - 1] != -pages
                || arena.spans[local] != null) {
            return "a page cache's run at page " + (arena.firstPage + local) + " (" + pages + " pages) does not match its arena's tags";
        }
        return null;
    }

    /** {@code {arena index, local, pages}} in one long, for {@link #replaceRun}'s answer. */
    static long packRun(int arenaIndex, int at, int length) {
        return (long) (arenaIndex + 1) << 40 | (long) at << 20 | length;
    }

    static int packedArena(long packed) {
        return (int) (packed >>> 40) - 1;
    }

    static int packedLocal(long packed) {
        return (int) (packed >>> 20) & 0xFFFFF;
    }

    static int packedPages(long packed) {
        return (int) packed & 0xFFFFF;
    }

    /** Sets the run and its boundary tags ({@code -length} at its first and last page). */
    private void setRun(HeapArena runArena, int at, int length) {
        if (arena != runArena) {
            arena = runArena;
        }
        words[LOCAL] = at;
        words[PAGES] = length;
        if (runArena != null) {
            runArena.freeRunAtStart[at] = -length;
            runArena.freeRunAtEnd[at + length - 1] = -length;
        }
    }
}
