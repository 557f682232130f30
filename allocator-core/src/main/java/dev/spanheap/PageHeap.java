package dev.spanheap;

import java.util.Arrays;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One of the heap's page heaps: the arenas it owns, their free page runs, and the spans carved
 * from them; Go's {@code mheap}, one per shard of the heap as jemalloc keeps one per arena. See
 * {@code package-info.java} for the overview and {@link AddressRange} for what the page heaps share.
 *
 * <p><b>Why several.</b> Each thread allocates from the page heap of its shard (see
 * {@link ThreadCacheRegistry}), so threads on different shards meet on a page heap lock only when
 * one borrows another's runs (a small span waits for that lock, a large object takes it only if
 * it is free; below); a free goes to the page heap that owns the arena. With as many shards as
 * runnable threads the lock is taken uncontended in the common case.
 *
 * <p><b>Free runs</b> are kept by a {@link FreeRunIndex} (address-ordered best fit, coalesced at
 * once). A page heap takes held (dirty) pages before clean ones, its own before another heap's,
 * and maps the range's next arena for itself only when no heap has a run that fits (see
 * {@link #allocateLarge}); a borrowed span stays the other heap's, which frees it.
 *
 * <p><b>Returning memory</b> to the OS is the work of its {@link PageReleaser}: the synchronous
 * release at the limit or on request, and the scavenger's pass, which takes a run out of the
 * index while it releases it without the lock. An allocation that only the run in flight could
 * serve waits for it rather than mapping an arena.
 *
 * <p><b>needzero and held memory.</b> Each arena keeps a dirty bit per page: set when the page is
 * given to a span, cleared when it is released with MADV_DONTNEED. A span whose pages were all
 * clean needs no zeroing. Clean pages going into a span count as newly held
 * ({@link AddressRange#tryHold}, which enforces {@code maxHeapBytes}); dirty pages were held already.
 *
 * <p><b>Span structures are reused</b> (Go's {@code fixalloc}): a freed span goes on the pool of
 * this page heap and is re-initialised for the next span, so no path allocates a Java object per
 * span once the pool is warm. As in Go, the pool is not bounded: it holds at most as many
 * structures as this heap once had spans at the same time (a few hundred bytes of Java heap per
 * span, against at least 8 KiB of native memory each); a bound below a workload's span churn
 * made Java garbage again (a batch of 1000 blocks of 4 KiB cycles 500 one-page spans).
 *
 * <p>Synchronization: every mutable field, the page-table entries and arenas it owns, and the
 * state of its {@link PageReleaser} are guarded by {@link #lock}; other page heaps read
 * {@code freePages} and {@code dirtyFreePages} without it, as hints only. Lock order: a central-list lock,
 * then a page heap lock; page heap locks among themselves only in index order
 * ({@link AddressRange} takes them all to grow the page table).
 */
final class PageHeap {

    /**
     * The 16 bits of a page-table entry above the 8 class bits: the page's place in its span
     * ({@link #PAGE_IN_SPAN_MASK}) and the sampled-span bit. The free paths' slot checks take all
     * of them, so that a page with the bit set reads as far past any slot area and fails them.
     */
    static final int PAGE_FIELD_MASK = 0xFFFF;
    /** Of {@link #PAGE_FIELD_MASK}, the page's place in its span (a small span has a handful of pages). */
    static final int PAGE_IN_SPAN_MASK = 0x7FFF;
    /**
     * Set on every page-table entry of a small span while the heap profile holds a live sample in
     * it (bit 23, the top of the page field): the free fast path then fails its slot check for
     * every slot of the span and the slow path drops the sample ({@link HeapProfiler}).
     */
    static final int SAMPLED_SPAN_BIT = 0x8000 << 8;
    /** Where a small span's page-table entries keep the shard of the central list that holds it. */
    static final int LIST_SHARD_SHIFT = 24;

    /** How many other page heaps, at most, a page heap asks for held pages before using its clean ones. */
    static final int DIRTY_LENDERS = 7;

    final ReentrantLock lock = new ReentrantLock();
    /** This page heap's place in the heap's shards and in the lock order. */
    final int index;
    private final AddressRange range;
    private final boolean checked;
    private final FreeRunIndex freeRuns;
    /** Freed spans, for reuse, in {@code [0, spanPoolSize)}; grows by doubling. Guarded by the lock. */
    private Span[] spanPool = new Span[64];

    // Written on every span and large object, by this shard's threads only: padded by a cache
    // line on each side (the JVM lays out an object's long fields together, in this order), so
    // that another shard's page heap, placed next to this one on the Java heap, never shares a
    // line with them (docs/benchmarks.md, "Scaling with threads", has the run that showed it).
    @SuppressWarnings("unused")
    private long padBefore0, padBefore1, padBefore2, padBefore3, padBefore4, padBefore5, padBefore6, padBefore7;
    private long spanPoolSize;
    // Page accounting, all guarded by the lock. Other page heaps read freePages and dirtyFreePages
    // without it, as a hint of whether a run may fit here before they take the lock to look.
    private long arenasOwned;
    private long pagesInSpans;
    private long freePages;
    private long dirtyFreePages;
    private long smallSpans;
    private long largeSpans;
    private long largeObjectBytes;
    private long largeRequestedBytes;
    private long largeAllocations;
    private long largeFrees;
    /**
     * Pages lent to threads' {@link PageCache}s: their runs and the spans cut from them (all held
     * and dirty; in no span this heap counts and not in its index).
     */
    private long lentPages;
    /** Spans cut by page caches and freed here, under the lock, with their bytes and requested bytes. */
    private long carvedFrees;
    private long carvedFreedBytes;
    private long carvedFreedRequestedBytes;
    @SuppressWarnings("unused")
    private long padAfter0, padAfter1, padAfter2, padAfter3, padAfter4, padAfter5, padAfter6, padAfter7;
    /** True while a thread maps an arena for this heap without the lock (see {@link #grow}). Guarded by the lock. */
    private boolean growing;
    /** Signalled (under the lock) when {@link #growing} ends, whether or not an arena was mapped. */
    private final Condition arenaMapped = lock.newCondition();
    /** Returns this heap's free runs to the OS; its state is guarded by {@link #lock} too. */
    final PageReleaser releaser;

    /** What one page heap counts, read under its lock. */
    record Snapshot(long arenasOwned, long pagesInSpans, long freePages, long dirtyFreePages, long smallSpans,
            long largeSpans, long largeObjectBytes, long largeRequestedBytes, long largeAllocations, long largeFrees,
            long releasedBytesTotal, long longestFreeRunPages, long freeRuns, long releaseFailures, long lentPages,
            long carvedFrees, long carvedFreedBytes, long carvedFreedRequestedBytes) {
    }

    /** What {@link HeapVerifier} checks across page heaps and caches: the cut spans found in this heap's arenas, and its lent runs. */
    record LentCensus(long carvedSpans, long carvedBytes, long lentRuns) {
    }

    PageHeap(int index, AddressRange range, boolean checked) {
        this.index = index;
        this.range = range;
        this.checked = checked;
        this.freeRuns = new FreeRunIndex(range);
        this.releaser = new PageReleaser(this, range, freeRuns);
    }

    /**
     * Takes {@link #lock}, spinning a little first: the lock is held for well under a microsecond,
     * while parking and waking a thread costs several.
     */
    void acquire() {
        for (int spins = 0; spins < 100; spins++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    // ---------------------------------------------------------------- spans

    /**
     * Up to {@code count} new spans of size class {@code sizeClass} for the central list of shard
     * {@code listShard}, into {@code out}; returns how many, at least one. Called by that central
     * list, holding its lock.
     *
     * <p>Where the first comes from is {@link #allocateLarge}'s order. When it comes from this
     * heap, the others come in the same hold of the lock from free runs this heap already holds,
     * without growing, borrowing or releasing memory for the limit (a refill that needs several
     * spans should not pay for a lock and an index search per span, nor map an arena for spans it
     * could do without).
     */
    int allocateSmallSpans(int sizeClass, int listShard, Span[] out, int count) {
        int pages = SizeClasses.SPAN_PAGES[sizeClass];
        long bytes = (long) pages << SizeClasses.PAGE_SHIFT;
        int taken = takeSmallSpans(sizeClass, listShard, out, count, true);
        if (taken == 0) {
            Span span = borrowDirtyRun(pages, 1, sizeClass, listShard, bytes);
            if (span != null) {
                out[0] = span;
                return 1;
            }
            taken = takeSmallSpans(sizeClass, listShard, out, count, false);
        }
        if (taken == 0) {
            out[taken++] = allocateSpanAfterOwnRuns(pages, 1, sizeClass, listShard, bytes);
        }
        return taken;
    }

    /**
     * Up to {@code count} spans from this heap's free runs, in one hold of the lock: the first as
     * {@link #allocateOwnRun} finds it if {@code dirtyFirst}, else from any run (without growing);
     * the others from runs it may hold without releasing anything for the limit.
     */
    private int takeSmallSpans(int sizeClass, int listShard, Span[] out, int count, boolean dirtyFirst) {
        int pages = SizeClasses.SPAN_PAGES[sizeClass];
        long bytes = (long) pages << SizeClasses.PAGE_SHIFT;
        int taken = 0;
        acquire();
        try {
            Span span = dirtyFirst ? allocateOwnRun(pages, 1, sizeClass, bytes) : allocateRun(pages, 1, sizeClass, bytes, false);
            while (span != null) {
                registerSmall(span, sizeClass, listShard);
                out[taken++] = span;
                span = taken < count ? allocateHeldRun(pages, 1, sizeClass, false) : null;
            }
        } finally {
            lock.unlock();
        }
        return taken;
    }

    /**
     * A large-object span of {@code pages} pages whose start is aligned to {@code alignPages}
     * pages, from the first of: a run of this heap's that is dirty throughout; another page
     * heap's such run ({@link #borrowDirtyRun}); any run of this heap's (in the first hold of the
     * lock if no other heap may lend: {@link #allocateOwnRun}); the rest as
     * {@link #allocateSpanAfterOwnRuns} says.
     *
     * <p>Held pages first, wherever they are, so that the shards' page heaps hold about what one
     * heap would: each heap used the clean pages of its own arenas while the others held free
     * pages that only their own threads took (docs/design.md, "Free runs between page heaps").
     */
    Span allocateLarge(long requestedBytes, int pages, int alignPages) {
        return allocateLarge(requestedBytes, pages, alignPages, null);
    }

    /**
     * As {@link #allocateLarge(long, int, int)}, after taking back the run of {@code returning}
     * (the allocating thread's page cache, or null), which did not fit this allocation and must
     * not keep its pages from the best fit: in the same hold of the lock when it is this heap's,
     * else under its own heap's lock first.
     */
    Span allocateLarge(long requestedBytes, int pages, int alignPages, PageCache returning) {
        if (returning != null && !returning.runIsOf(this)) {
            returning.takeBack();
        }
        Span span;
        acquire();
        try {
            if (returning != null) {
                returning.takeBackInto(this);
            }
            span = allocateOwnRun(pages, alignPages, 0, requestedBytes);
            if (span != null) {
                return registered(span, 0, index, requestedBytes);
            }
        } finally {
            lock.unlock();
        }
        span = borrowDirtyRun(pages, alignPages, 0, index, requestedBytes);
        if (span == null) {
            span = allocateSpanHere(pages, alignPages, 0, index, requestedBytes, false);
        }
        return span != null ? span : allocateSpanAfterOwnRuns(pages, alignPages, 0, index, requestedBytes);
    }

    /**
     * A span from this heap's best-fitting free run if it is dirty throughout or, when no other
     * heap may lend a dirty one ({@link #othersMayLendDirty}), from any run that fits (without
     * growing), so that a heap the others cannot help takes one hold of its lock, not two.
     * Holding the lock.
     */
    private Span allocateOwnRun(int pages, int alignPages, int sizeClass, long requestedBytes) {
        Span span = allocateHeldRun(pages, alignPages, sizeClass, true);
        return span != null || othersMayLendDirty(pages) ? span : allocateRun(pages, alignPages, sizeClass, requestedBytes, false);
    }

    /** Whether one of the heaps {@link #borrowDirtyRun} asks says, without its lock, that it holds {@code pages} dirty free pages. */
    private boolean othersMayLendDirty(int pages) {
        return nextDirtyLender(pages, 1) != 0;
    }

    /**
     * The place, from {@code from} on, among the {@link #DIRTY_LENDERS} heaps after this one in
     * index order, of the first whose dirty count, read without its lock, is at least
     * {@code pages}; 0 if none.
     */
    private int nextDirtyLender(int pages, int from) {
        PageHeap[] heaps = range.pageHeaps();
        int lenders = Math.min(heaps.length, DIRTY_LENDERS + 1);
        for (int i = from; i < lenders; i++) {
            if (heaps[(index + i) % heaps.length].dirtyFreePages >= pages) {
                return i;
            }
        }
        return 0;
    }

    /**
     * A span from the run, dirty throughout, of one of the next {@link #DIRTY_LENDERS} page heaps
     * in index order, or null. A heap is tried only if its count, read without its lock, says it
     * holds enough dirty free pages; for a large object only if its lock is free at that moment
     * (see {@link #takeRun}). The bound keeps the cost of a miss, which a growing heap pays for
     * every span it cuts from clean pages, at a few cache lines however many shards there are.
     */
    private Span borrowDirtyRun(int pages, int alignPages, int sizeClass, int listShard, long requestedBytes) {
        PageHeap[] heaps = range.pageHeaps();
        for (int i = nextDirtyLender(pages, 1); i != 0; i = nextDirtyLender(pages, i + 1)) {
            Span span = heaps[(index + i) % heaps.length].takeRun(pages, alignPages, sizeClass, listShard, requestedBytes, true, sizeClass != 0);
            if (span != null) {
                return span;
            }
        }
        return null;
    }

    /**
     * A span for this heap's threads when none of its own free runs fits: a run of any other heap
     * whose free count, read without its lock, may fit it (clean pages allowed; for a large object
     * only if the lock is free, as in {@link #borrowDirtyRun}); else an arena this heap maps for
     * itself; when the range has no room for one, any other heap's run, waiting for its lock.
     * Without this heap's lock: page heap locks are never nested here.
     */
    private Span allocateSpanAfterOwnRuns(int pages, int alignPages, int sizeClass, int listShard, long requestedBytes) {
        PageHeap[] heaps = range.pageHeaps();
        Span span;
        for (int i = 1; i < heaps.length; i++) {
            PageHeap other = heaps[(index + i) % heaps.length];
            if (other.freePages >= pages
                    && (span = other.takeRun(pages, alignPages, sizeClass, listShard, requestedBytes, false, sizeClass != 0)) != null) {
                return span;
            }
        }
        if ((span = allocateSpanHere(pages, alignPages, sizeClass, listShard, requestedBytes, true)) != null) {
            return span;
        }
        // The range is full: the other heaps' free runs are the last resort.
        for (int i = 1; i < heaps.length; i++) {
            PageHeap other = heaps[(index + i) % heaps.length];
            if ((span = other.allocateSpanHere(pages, alignPages, sizeClass, listShard, requestedBytes, false)) != null) {
                return span;
            }
        }
        throw Errors.addressRangeFull("allocate", requestedBytes, range);
    }

    /** A span from this heap's runs (mapping an arena if {@code mayGrow}); null if none fits and the range is full. */
    private Span allocateSpanHere(int pages, int alignPages, int sizeClass, int listShard, long requestedBytes, boolean mayGrow) {
        acquire();
        try {
            Span span = allocateRun(pages, alignPages, sizeClass, requestedBytes, mayGrow);
            return span == null ? null : registered(span, sizeClass, listShard, requestedBytes);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A span from this heap's best-fitting free run, for its own threads or another heap's, if
     * one fits, is dirty throughout when {@code dirtyOnly}, and its clean pages may be held
     * without releasing anything for the limit; else null. Waits for the lock if {@code wait},
     * else takes it only if it is free at this moment.
     *
     * <p>Another heap's small spans wait; its large objects do not. A borrowed small span comes
     * back to this heap once, empty, in a batch with others; a borrowed large object's free takes
     * this lock, and so would the borrower's next allocation, which finds the run here again.
     * Waiting kept two shards' large-object pairs on one lock; giving up at once lets the
     * borrower map an arena of its own as soon as the two threads meet.
     */
    private Span takeRun(int pages, int alignPages, int sizeClass, int listShard, long requestedBytes, boolean dirtyOnly,
            boolean wait) {
        if (wait) {
            acquire();
        } else if (!lock.tryLock()) {
            return null;
        }
        try {
            Span span = allocateHeldRun(pages, alignPages, sizeClass, dirtyOnly);
            return span == null ? null : registered(span, sizeClass, listShard, requestedBytes);
        } finally {
            lock.unlock();
        }
    }

    /** Writes a new span's page-table entries (small) or counts it (large), and returns it. Holding the lock. */
    private Span registered(Span span, int sizeClass, int listShard, long requestedBytes) {
        if (sizeClass != 0) {
            registerSmall(span, sizeClass, listShard);
        } else {
            // No page-table entries: a large span's stay 0 (see AddressRange.spanAt).
            span.requestedBytes = requestedBytes;
            largeSpans++;
            largeAllocations++;
            largeObjectBytes += span.bytes();
            largeRequestedBytes += requestedBytes;
        }
        return span;
    }

    /**
     * Frees the large object at {@code address} in {@code arena}, whose span a racy lookup found to
     * be {@code span}; false if, checked under the lock, it is not a live large object of this
     * heap's starting there (a double free), with nothing changed.
     */
    boolean freeLarge(HeapArena arena, Span span, long address) {
        acquire();
        try {
            if (!claimLarge(arena, span, address)) {
                return false;
            }
            indexClaimed(span);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Puts the pages of {@code span}, a large span just claimed freed, in the index. Holding the lock. */
    private void indexClaimed(Span span) {
        if (span.carved) {
            // Its pages leave the lent ones for the index (freeSpan counts them out of the spans).
            lentPages -= span.pages;
            pagesInSpans += span.pages;
        }
        freeSpan(span);
    }

    /**
     * Frees the large object at {@code address} as {@link #freeLarge} does, but lends its pages to
     * {@code cache}, the freeing thread's, as its new run instead of indexing them
     * ({@link PageCache}); the run the cache held before, which {@link PageCache#mayLend} allows
     * only from this heap, comes back to this heap's index in the same hold of the lock. False as
     * {@link #freeLarge}.
     */
    boolean freeLargeIntoCache(HeapArena arena, Span span, long address, PageCache cache) {
        acquire();
        try {
            if (!claimLarge(arena, span, address)) {
                return false;
            }
            if (!cache.enter()) {
                // Another thread is taking the cache's run back: this one goes to the index.
                indexClaimed(span);
                return true;
            }
            if (!span.carved) {
                pagesInSpans -= span.pages;
                lentPages += span.pages;
            }
            int local = (int) (span.firstPage - arena.firstPage);
            arena.spans[local] = null;
            pool(span);
            long previous;
            try {
                cache.balancePool(this);
                previous = cache.replaceRun(arena, local, span.pages);
            } finally {
                cache.leave();
            }
            if (previous != 0) {
                HeapArena previousArena = range.arenas[PageCache.packedArena(previous)];
                assert previousArena.owner == this : "mayLend lends only when the cache's run is this heap's";
                takeBackRunLocked(previousArena, PageCache.packedLocal(previous), PageCache.packedPages(previous));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether {@code span} is a live large object of this heap's starting at {@code address} (its
     * arena's first-page entry is {@link AddressRange#spanAt}'s answer for it: a large span's
     * page-table entries are 0), claimed freed and counted out if so; nothing changed if not.
     * Holding the lock.
     */
    private boolean claimLarge(HeapArena arena, Span span, long address) {
        assert range.arenaAt(address) == arena;
        if (!span.isLarge() || span.start != address || arena.owner != this
                || arena.spans[(int) ((address - arena.base) >>> SizeClasses.PAGE_SHIFT)] != span || !span.claimFree()) {
            return false;
        }
        if (span.carved) {
            carvedFrees++;
            carvedFreedBytes += span.bytes();
            carvedFreedRequestedBytes += span.requestedBytes;
        } else {
            largeSpans--;
            largeFrees++;
            largeObjectBytes -= span.bytes();
            largeRequestedBytes -= span.requestedBytes;
        }
        return true;
    }

    /** Takes back arena-local {@code [local, local + pages)} of {@code arena}, a run a page cache held, into the index. */
    void takeBackRun(HeapArena arena, int local, int pages) {
        acquire();
        try {
            takeBackRunLocked(arena, local, pages);
        } finally {
            lock.unlock();
        }
    }

    void takeBackRunLocked(HeapArena arena, int local, int pages) {
        assert lock.isHeldByCurrentThread();
        assert arena.owner == this && arena.freeRunAtStart[local] == -pages && arena.freeRunAtEnd[local + pages - 1] == -pages;
        arena.freeRunAtStart[local] = 0;
        arena.freeRunAtEnd[local + pages - 1] = 0;
        lentPages -= pages;
        freePages += pages;
        dirtyFreePages += pages;
        freeRuns.coalesceAndInsert(arena, local, pages, pages, range.coarseNanos());
    }

    /** Writes a new small span's page-table entries and counts it. Holding the lock. */
    private void registerSmall(Span span, int sizeClass, int listShard) {
        int[] info = range.pageInfo;
        span.listShard = listShard;
        for (int i = 0; i < span.pages; i++) {
            info[(int) (span.firstPage + i)] = sizeClass | i << 8 | listShard << LIST_SHARD_SHIFT;
        }
        smallSpans++;
    }

    /**
     * Sets or clears {@link #SAMPLED_SPAN_BIT} on the page-table entries of {@code span}, a small
     * span of an arena this page heap owns, with a live slot the caller holds (so the span stays
     * in use). Called by the {@link HeapProfiler} holding its lock (profiler lock, then page heap
     * lock); the page heap lock keeps the write from being lost to a page-table copy
     * ({@link AddressRange#mapArena}).
     */
    void markSampled(Span span, boolean sampled) {
        acquire();
        try {
            int[] info = range.pageInfo;
            for (int i = 0; i < span.pages; i++) {
                int page = (int) (span.firstPage + i);
                info[page] = sampled ? info[page] | SAMPLED_SPAN_BIT : info[page] & ~SAMPLED_SPAN_BIT;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Returns the empty small spans {@code spans[from .. to)}, all of this heap, in one hold of the
     * lock. Called by their central list, holding its lock.
     */
    void freeSmallSpans(Span[] spans, int from, int to) {
        acquire();
        try {
            for (int i = from; i < to; i++) {
                Span span = spans[i];
                Arrays.fill(range.pageInfo, (int) span.firstPage, (int) (span.firstPage + span.pages), 0);
                smallSpans--;
                freeSpan(span);
            }
        } finally {
            lock.unlock();
        }
    }

    private Span allocateRun(int pages, int alignPages, int sizeClass, long requestBytes, boolean mayGrow) {
        assert lock.isHeldByCurrentThread() && lock.getHoldCount() == 1;
        long searchLength = (long) pages + alignPages - 1;
        if (searchLength > HeapArena.PAGES) {
            throw new IllegalStateException(pages + " pages at " + alignPages + "-page alignment do not fit an arena");
        }
        boolean releasedEverywhere = false;
        long runStart;
        int runLength;
        long start;
        HeapArena arena;
        int local;
        int dirtyPages;
        while (true) {
            long key = freeRuns.bestFit(searchLength);
            if (key == FreeRunIndex.NONE) {
                // The scavenger may hold the run that fits out of the index while it releases it:
                // wait for that run instead of mapping another arena (the soak test saw a third
                // arena reserved for a 48 MiB live set when this was missing).
                if (!releaser.awaitRunBeingReleased(searchLength) && !(mayGrow && grow(requestBytes))) {
                    return null;
                }
                continue;
            }
            runStart = FreeRunIndex.start(key);
            runLength = FreeRunIndex.length(key);
            start = alignUp(runStart, alignPages);
            arena = range.arenaOfPage(start);
            local = (int) (start - arena.firstPage);
            dirtyPages = FreeRunIndex.dirtyPagesIn(arena, (int) (runStart - arena.firstPage), runLength, local, pages);
            long growth = (long) (pages - dirtyPages) << SizeClasses.PAGE_SHIFT;
            if (growth == 0 || range.tryHold(growth)) {
                break;
            }
            if (!releasedEverywhere) {
                HeapEvents.limitReached(range.heapName, requestBytes, range.maxHeapBytes, range.heldBytes());
            }
            // At the limit: release this heap's other free pages, then decide again with the same run.
            long released = releaser.releaseAllFree(runStart);
            if (released > 0) {
                HeapEvents.memoryReleased(range.heapName, released, HeapEvents.RELEASE_FOR_LIMIT);
            }
            if (range.tryHold(growth)) {
                break;
            }
            if (releasedEverywhere) {
                throw Errors.overLimit("allocate", requestBytes, range.maxHeapBytes, range.heldBytes());
            }
            // Then every page heap's (the lock dropped meanwhile: the runs may have changed, search again).
            releasedEverywhere = true;
            lock.unlock();
            try {
                range.releaseEverywhere();
            } finally {
                lock.lock();
            }
        }
        return carve(arena, runStart, runLength, local, pages, dirtyPages, sizeClass);
    }

    /**
     * A span of {@code pages} pages aligned to {@code alignPages} from the free run that fits best,
     * if one does and its pages are all held already ({@code dirtyOnly}) or the heap may hold the
     * clean ones without releasing anything for the limit; else null. Holding the lock.
     */
    private Span allocateHeldRun(int pages, int alignPages, int sizeClass, boolean dirtyOnly) {
        long key = freeRuns.bestFit((long) pages + alignPages - 1);
        if (key == FreeRunIndex.NONE) {
            return null;
        }
        long runStart = FreeRunIndex.start(key);
        int runLength = FreeRunIndex.length(key);
        long start = alignUp(runStart, alignPages);
        HeapArena arena = range.arenaOfPage(start);
        int local = (int) (start - arena.firstPage);
        int dirtyPages = FreeRunIndex.dirtyPagesIn(arena, (int) (runStart - arena.firstPage), runLength, local, pages);
        long growth = (long) (pages - dirtyPages) << SizeClasses.PAGE_SHIFT;
        if (growth != 0 && (dirtyOnly || !range.tryHold(growth))) {
            return null;
        }
        return carve(arena, runStart, runLength, local, pages, dirtyPages, sizeClass);
    }

    /** {@code page} rounded up to a multiple of {@code alignPages}, a power of two (a mask, not a division: this is on every span's path). */
    private static long alignUp(long page, int alignPages) {
        assert Integer.bitCount(alignPages) == 1 : alignPages;
        return (page + alignPages - 1) & -alignPages;
    }

    /**
     * Cuts the span at arena page {@code local} out of the free run {@code [runStart, runStart +
     * runLength)}, which holds it, puts what is left of the run back in the index and initialises
     * a span structure for it. Holding the lock, the clean pages already held.
     */
    private Span carve(HeapArena arena, long runStart, int runLength, int local, int pages, int dirtyPages, int sizeClass) {
        long start = arena.firstPage + local;
        int runLocal = (int) (runStart - arena.firstPage);
        long since = arena.freeRunSince[runLocal];
        int head = (int) (start - runStart);
        int tail = runLength - head - pages;
        int headDirty = head == 0 ? 0 : FreeRunIndex.dirtyPagesIn(arena, runLocal, runLength, runLocal, head);
        int tailDirty = arena.freeRunDirty[runLocal] - headDirty - dirtyPages;
        freeRuns.remove(arena, runLocal, runLength);
        if (head > 0) {
            freeRuns.insert(arena, runLocal, head, headDirty, since);
        }
        if (tail > 0) {
            freeRuns.insert(arena, local + pages, tail, tailDirty, since);
        }
        dirtyFreePages -= dirtyPages;
        freePages -= pages;
        pagesInSpans += pages;
        if (dirtyPages != pages) {
            // Only clean pages change; a run that is dirty throughout (the common case once the
            // heap is warm) skips the bitmap pass (docs/benchmarks.md, run E's large-pair experiment).
            arena.setDirty(local, pages, true);
        }
        Span span = spanPoolSize > 0 ? spanPool[(int) --spanPoolSize] : new Span(checked);
        spanPool[(int) spanPoolSize] = null;
        span.init(arena.base + ((long) local << SizeClasses.PAGE_SHIFT), start, pages, sizeClass, dirtyPages > 0);
        // The first page only: a reference store per page ran G1's post-write barrier for each,
        // which tripled the large-object path. Other pages find the span through pageInfo (spanAt).
        arena.spans[local] = span;
        return span;
    }

    /**
     * Maps the range's next arena for this heap, dropping the lock meanwhile (held once on entry
     * and on return); false if the range has no room left. If another thread is already mapping
     * one for this heap, waits for it instead and returns true, so that the caller searches the
     * new arena's runs: without this every thread that found no room during one mmap mapped an
     * arena of its own (eight threads starting on an empty heap mapped five).
     */
    private boolean grow(long requestBytes) {
        if (growing) {
            while (growing) {
                arenaMapped.awaitUninterruptibly();
            }
            return true;
        }
        growing = true;
        lock.unlock();
        HeapArena arena;
        try {
            arena = range.mapArena(this, "allocate", requestBytes);
        } finally {
            lock.lock();
            growing = false;
            arenaMapped.signalAll();
        }
        if (arena == null) {
            return false;
        }
        arenasOwned++;
        freePages += HeapArena.PAGES;
        freeRuns.insert(arena, 0, HeapArena.PAGES, 0, range.coarseNanos());
        return true;
    }

    private void freeSpan(Span span) {
        assert lock.isHeldByCurrentThread();
        span.inUse = false;
        HeapArena arena = range.arenaOfPage(span.firstPage);
        int local = (int) (span.firstPage - arena.firstPage);
        arena.spans[local] = null;
        pagesInSpans -= span.pages;
        freePages += span.pages;
        dirtyFreePages += span.pages;
        // Every page of a span is dirty: carve marked the clean ones.
        freeRuns.coalesceAndInsert(arena, local, span.pages, span.pages, range.coarseNanos());
        pool(span);
    }

    /** A pooled span structure to reuse, or null. Holding the lock. */
    Span pooledSpan() {
        assert lock.isHeldByCurrentThread();
        if (spanPoolSize == 0) {
            return null;
        }
        Span span = spanPool[(int) --spanPoolSize];
        spanPool[(int) spanPoolSize] = null;
        return span;
    }

    /** Keeps a freed span structure for reuse. Holding the lock. */
    void pool(Span span) {
        assert lock.isHeldByCurrentThread();
        if (spanPoolSize == spanPool.length) {
            spanPool = Arrays.copyOf(spanPool, spanPool.length * 2);
        }
        spanPool[(int) spanPoolSize++] = span;
    }

    // ---------------------------------------------------------------- returning memory

    /** This heap's dirty free pages, in bytes: what its {@link #releaser} may release. Holding the lock. */
    long dirtyFreeBytesLocked() {
        assert lock.isHeldByCurrentThread();
        return dirtyFreePages << SizeClasses.PAGE_SHIFT;
    }

    /**
     * Counts {@code dirtyPages} free pages as released to the OS by the {@link #releaser}: no
     * longer dirty, no longer held. Holding the lock.
     */
    void dirtyPagesReleased(int dirtyPages) {
        assert lock.isHeldByCurrentThread();
        dirtyFreePages -= dirtyPages;
        range.unhold((long) dirtyPages << SizeClasses.PAGE_SHIFT);
    }

    // ---------------------------------------------------------------- observation

    Snapshot snapshot() {
        acquire();
        try {
            return new Snapshot(arenasOwned, pagesInSpans, freePages, dirtyFreePages, smallSpans, largeSpans,
                    largeObjectBytes, largeRequestedBytes, largeAllocations, largeFrees, releaser.releasedBytesTotal(),
                    freeRuns.longestPages(), freeRuns.count(), releaser.releaseFailures(), lentPages, carvedFrees,
                    carvedFreedBytes, carvedFreedRequestedBytes);
        } finally {
            lock.unlock();
        }
    }

    /** Pages held from the OS by this heap (in spans, free and dirty, or lent to page caches). Holding the lock. */
    long heldBytesLocked() {
        assert lock.isHeldByCurrentThread();
        return (pagesInSpans + dirtyFreePages + lentPages) << SizeClasses.PAGE_SHIFT;
    }

    /**
     * Whether the run lent to a page cache at arena-local {@code page} (its start tag negative) is
     * well formed: a matching end tag, no span entry or page-table entry inside, every page dirty.
     * Returns the problem, or null.
     */
    private String verifyLentRun(HeapArena arena, int page) {
        int length = -arena.freeRunAtStart[page];
        long first = arena.firstPage + page;
        if (page + length > HeapArena.PAGES || arena.freeRunAtEnd[page + length - 1] != -length) {
            return "lent run at page " + first + " (" + length + " pages) has no matching end tag";
        }
        for (int i = 0; i < length; i++) {
            if ((i > 0 && arena.spans[page + i] != null) || range.pageInfo[(int) (first + i)] != 0) {
                return "lent page " + (first + i) + " has a span or page-table entry";
            }
        }
        if (arena.countDirty(page, length) != length) {
            return "lent run at page " + first + " has clean pages (" + arena.countDirty(page, length) + " of " + length + " dirty)";
        }
        return null;
    }

    /** The spans cut by page caches in this heap's arenas, their bytes, and its runs lent to page caches, counted under the lock. */
    LentCensus lentCensus() {
        acquire();
        try {
            long carved = 0;
            long carvedBytes = 0;
            long runs = 0;
            for (int a = 0; a < range.arenaCount; a++) {
                HeapArena arena = range.arenas[a];
                if (arena.owner != this) {
                    continue;
                }
                for (int page = 0; page < HeapArena.PAGES; page++) {
                    Span span = arena.spans[page];
                    if (span != null && span.carved) {
                        carved++;
                        carvedBytes += span.bytes();
                    } else if (span == null && arena.freeRunAtStart[page] < 0) {
                        runs++;
                    }
                }
            }
            return new LentCensus(carved, carvedBytes, runs);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks this page heap's equations, holding the lock: per owned arena, pages in spans + free
     * pages == pages; free runs agree with the index and are coalesced; the page table points
     * every page of a span to it; the counters agree with a recount. Returns the first broken
     * one, or null.
     */
    String verify() {
        acquire();
        try {
            return verifyLocked();
        } finally {
            lock.unlock();
        }
    }

    private String verifyLocked() {
        long spanPages = 0;
        long free = 0;
        long dirtyFree = 0;
        long small = 0;
        long large = 0;
        long largeBytes = 0;
        long lent = 0;
        long owned = 0;
        int runs = 0;
        int[] pageInfo = range.pageInfo;
        long runBeingReleased = releaser.runBeingReleased();
        for (int a = 0; a < range.arenaCount; a++) {
            HeapArena arena = range.arenas[a];
            if (arena.owner != this) {
                continue;
            }
            owned++;
            String summaryProblem = arena.verifyDirtySummary();
            if (summaryProblem != null) {
                return "page heap " + index + ": " + summaryProblem;
            }
            int page = 0;
            boolean previousWasFree = false;
            while (page < HeapArena.PAGES) {
                Span span = arena.spans[page];
                if (span != null) {
                    if (arena.freeRunAtStart[page] != 0) {
                        return "page " + (arena.firstPage + page) + " is in span " + span + " and starts a free run";
                    }
                    if (span.firstPage != arena.firstPage + page || !span.inUse) {
                        return "page map of arena " + a + " points page " + page + " into span " + span
                                + (span.inUse ? " which starts elsewhere" : " which is freed");
                    }
                    for (int i = 0; i < span.pages; i++) {
                        if (i > 0 && arena.spans[page + i] != null) {
                            return "page " + (page + i) + " inside span " + span + " has a span entry " + arena.spans[page + i];
                        }
                        if (arena.freeRunAtEnd[page + i] != 0 || (i > 0 && arena.freeRunAtStart[page + i] != 0)) {
                            return "page " + (arena.firstPage + page + i) + " inside span " + span + " carries a boundary tag";
                        }
                        int expected = span.isLarge() ? 0 : span.sizeClass | i << 8 | span.listShard << LIST_SHARD_SHIFT
                                | (span.racyLiveSamples() > 0 ? SAMPLED_SPAN_BIT : 0);
                        if (pageInfo[(int) (span.firstPage + i)] != expected) {
                            return "pageInfo of page " + (span.firstPage + i) + " is " + pageInfo[(int) (span.firstPage + i)]
                                    + ", expected " + expected + " for span " + span;
                        }
                    }
                    if (span.carved) {
                        lent += span.pages;
                    } else {
                        if (span.isLarge()) {
                            large++;
                            largeBytes += span.bytes();
                        } else {
                            small++;
                        }
                        spanPages += span.pages;
                    }
                    page += span.pages;
                    previousWasFree = false;
                } else if (arena.firstPage + page == runBeingReleased) {
                    int length = releaser.runBeingReleasedLength();
                    free += length;
                    dirtyFree += arena.countDirty(page, length);
                    page += length;
                    previousWasFree = false;
                } else if (arena.freeRunAtStart[page] < 0) {
                    String lentProblem = verifyLentRun(arena, page);
                    if (lentProblem != null) {
                        return lentProblem;
                    }
                    lent -= arena.freeRunAtStart[page];
                    page -= arena.freeRunAtStart[page];
                    previousWasFree = false;
                } else {
                    int length = arena.freeRunAtStart[page];
                    if (length <= 0) {
                        return "page " + (arena.firstPage + page) + " is neither in a span nor the start of a free run";
                    }
                    if (previousWasFree) {
                        return "free runs touch at page " + (arena.firstPage + page) + " (not coalesced)";
                    }
                    if (arena.freeRunAtEnd[page + length - 1] != length) {
                        return "free run at page " + (arena.firstPage + page) + " has no matching end tag";
                    }
                    if (!freeRuns.contains(arena, page, length)) {
                        return "free run at page " + (arena.firstPage + page) + " (" + length + " pages) is missing from the index";
                    }
                    for (int i = 0; i < length; i++) {
                        if (arena.spans[page + i] != null) {
                            return "free page " + (arena.firstPage + page + i) + " maps to span " + arena.spans[page + i];
                        }
                        if (pageInfo[(int) (arena.firstPage + page + i)] != 0) {
                            return "free page " + (arena.firstPage + page + i) + " has pageInfo " + pageInfo[(int) (arena.firstPage + page + i)];
                        }
                    }
                    int dirtyPages = arena.countDirty(page, length);
                    if (arena.freeRunDirty[page] != dirtyPages) {
                        return "free run at page " + (arena.firstPage + page) + " counts " + arena.freeRunDirty[page]
                                + " dirty pages, its dirty bits " + dirtyPages;
                    }
                    free += length;
                    dirtyFree += dirtyPages;
                    runs++;
                    page += length;
                    previousWasFree = true;
                }
            }
        }
        if (owned != arenasOwned) {
            return "page heap " + index + " owns " + owned + " arenas, counts " + arenasOwned;
        }
        String indexProblem = freeRuns.verify();
        if (indexProblem != null) {
            return "page heap " + index + ": " + indexProblem;
        }
        if (runs != freeRuns.count()) {
            return "page heap " + index + ": free-run index holds " + freeRuns.count() + " runs, arenas hold " + runs;
        }
        if (spanPages + free + lent != owned * HeapArena.PAGES) {
            return "page heap " + index + ": pages in spans " + spanPages + " + free pages " + free + " + lent pages " + lent + " != "
                    + owned + " arenas' pages";
        }
        if (lent != lentPages) {
            return "page heap " + index + ": counts " + lentPages + " pages lent to page caches, its arenas hold " + lent;
        }
        if (spanPages != pagesInSpans || free != freePages || dirtyFree != dirtyFreePages) {
            return "page heap " + index + ": page counters (in spans " + pagesInSpans + ", free " + freePages + ", dirty free "
                    + dirtyFreePages + ") disagree with a recount (" + spanPages + ", " + free + ", " + dirtyFree + ")";
        }
        if (small != smallSpans || large != largeSpans || largeBytes != largeObjectBytes) {
            return "page heap " + index + ": span counters (small " + smallSpans + ", large " + largeSpans + ", large bytes "
                    + largeObjectBytes + ") disagree with a recount (" + small + ", " + large + ", " + largeBytes + ")";
        }
        for (int i = 0; i < (int) spanPoolSize; i++) {
            if (spanPool[i].inUse) {
                return "page heap " + index + ": pooled span " + spanPool[i] + " is still in use";
            }
        }
        return null;
    }

    /** Visits every in-use span of this page heap (holding the lock). */
    void forEachSpan(java.util.function.Consumer<Span> action) {
        assert lock.isHeldByCurrentThread();
        long runBeingReleased = releaser.runBeingReleased();
        for (int a = 0; a < range.arenaCount; a++) {
            HeapArena arena = range.arenas[a];
            if (arena.owner != this) {
                continue;
            }
            int page = 0;
            while (page < HeapArena.PAGES) {
                Span span = arena.spans[page];
                if (span != null) {
                    action.accept(span);
                    page += span.pages;
                } else if (arena.firstPage + page == runBeingReleased) {
                    page += releaser.runBeingReleasedLength();
                } else {
                    page += Math.abs(arena.freeRunAtStart[page]); // negative: a run lent to a page cache
                }
            }
        }
    }
}
