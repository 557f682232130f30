package dev.spanheap;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The page heap: the heap's address range, its arenas, the free page runs between spans, and the
 * dedicated mappings of objects larger than an arena; Go's {@code mheap}. See
 * {@code package-info.java} for the overview.
 *
 * <p><b>Address range.</b> At creation the heap reserves one range of address space (PROT_NONE,
 * 64 MiB-aligned, {@link SpanHeapConfig#addressSpaceBytes()} long). Arenas are mapped read/write
 * inside it in order, one 64 MiB mmap each, when the free runs cannot serve a request. Because the
 * range is contiguous, a page's index is {@code (address - base) >>> 13}, and one flat table
 * ({@link #pageInfo}) answers "which size class, and which page of its span" for the free fast
 * path with a single load.
 *
 * <p><b>Free runs.</b> Each free run is recorded by boundary tags in its arena (length at its first
 * and last page) and in {@link #freeRuns} (a {@link LongTreeSet} of {@code length << 40 | firstPage},
 * no object per run), ordered by (length, address). An allocation takes the
 * shortest run that fits, the lowest-addressed among equals (address-ordered best fit, no scan);
 * a freed run merges with free neighbours at once, so no two free runs are ever adjacent. Runs do
 * not cross arena boundaries.
 *
 * <p><b>needzero and held memory.</b> Each arena keeps a dirty bit per page: set when the page is
 * given to a span, cleared when it is released with MADV_DONTNEED. A span whose pages were all
 * clean needs no zeroing. Bytes held from the OS = pages in spans + dirty free pages + dedicated
 * mappings; {@code maxHeapBytes} limits that sum.
 *
 * <p>Synchronization: every mutable field is guarded by {@link #lock}, except {@link #pageInfo},
 * written under the lock and read without it on the free fast path (see the field).
 */
final class PageHeap {

    private static final int KEY_PAGE_BITS = 40;
    private static final long KEY_PAGE_MASK = (1L << KEY_PAGE_BITS) - 1;

    final ReentrantLock lock = new ReentrantLock();
    /** Serializes scavenger passes (they use {@link #runBeingReleased}); taken before {@link #lock}. */
    private final ReentrantLock scavengeLock = new ReentrantLock();
    final long base;
    final long addressSpaceBytes;
    final int maxArenas;
    final long maxHeapBytes;
    private final boolean checked;

    /** Arenas by index; entries are set once, under the lock, and may be read without it. */
    final HeapArena[] arenas;
    /** Guarded by the lock. */
    int arenaCount;

    /**
     * Per page of the mapped arenas: {@code sizeClass | pageInSpan << 8} for a page of a span
     * (class 0 for a large span), 0 for a free page. {@link #spanAt} uses {@code pageInSpan} to
     * find the span's first page, the only one whose {@link HeapArena#spans} entry is set. Entries
     * are written under the lock; the array is replaced by a longer copy (under the lock) when an
     * arena is added. Readers load the field without the lock: an address that a thread may
     * legally free was handed out after the entries for its span were written, through the
     * central-list lock, so the reader sees them.
     */
    int[] pageInfo = new int[HeapArena.PAGES];
    /**
     * Told the new array whenever {@link #pageInfo} is replaced (under the lock), so that the free
     * fast path can keep it in a field of its own, one load closer. Set once before first use.
     */
    java.util.function.Consumer<int[]> pageInfoReplaced = info -> { };

    /** Free runs as {@code length << 40 | firstPage}. Guarded by the lock. */
    private final LongTreeSet freeRuns = new LongTreeSet();
    /** Objects larger than an arena, by address. Guarded by the lock. */
    private final Map<Long, DedicatedMapping> dedicated = new HashMap<>();

    // Page accounting, all guarded by the lock.
    long pagesInSpans;
    long freePages;
    long dirtyFreePages;
    long smallSpans;
    long largeSpans;
    long largeObjectBytes;
    long largeRequestedBytes;
    long dedicatedBytes;
    long dedicatedRequestedBytes;
    long arenaReservations;
    long largeAllocations;
    long largeFrees;
    long dedicatedAllocations;
    long dedicatedFrees;
    long releasedBytesTotal;
    /**
     * The free run the scavenger has taken out of the index while it releases it without the
     * lock ({@code -1} when none), so that {@link #verify} can count it as free.
     */
    private long runBeingReleased = -1;
    private int runBeingReleasedLength;
    /**
     * Test hook: runs in the scavenging thread while {@link #runBeingReleased} is out of the index
     * and the lock is not held, just before the madvise call.
     */
    Runnable whileReleasing = () -> { };
    /** Signalled (under the lock) when the scavenger puts {@link #runBeingReleased} back. */
    private final Condition runReleased = lock.newCondition();

    /** An object larger than an arena, in its own mapping. */
    record DedicatedMapping(long address, long mappedBytes, long requestedBytes, java.lang.foreign.Arena scope) {
    }

    PageHeap(SpanHeapConfig config) {
        this.addressSpaceBytes = config.addressSpaceBytes();
        this.maxArenas = (int) (addressSpaceBytes >>> HeapArena.SHIFT);
        this.maxHeapBytes = config.maxHeapBytes();
        this.checked = config.checked();
        this.arenas = new HeapArena[maxArenas];
        this.base = OsMemory.reserveAligned(addressSpaceBytes, HeapArena.BYTES);
    }

    /**
     * Takes {@link #lock}, spinning a little first: the heap lock is held for well under a
     * microsecond, while parking and waking a thread costs several, so a short spin keeps two
     * threads that both need pages from handing the core back and forth.
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

    long heldBytes() {
        return ((pagesInSpans + dirtyFreePages) << SizeClasses.PAGE_SHIFT) + dedicatedBytes;
    }

    boolean contains(long address) {
        return Long.compareUnsigned(address - base, (long) arenaCount << HeapArena.SHIFT) < 0;
    }

    /**
     * The in-use span covering {@code address}, or null: the page's {@code pageInSpan} leads to the
     * span's first page. Safe without the lock (a racy read may find a stale span or none);
     * callers re-check under a lock.
     */
    Span spanAt(long address) {
        long offset = address - base;
        if (Long.compareUnsigned(offset, addressSpaceBytes) >= 0) {
            return null;
        }
        HeapArena arena = arenas[(int) (offset >>> HeapArena.SHIFT)];
        long page = offset >>> SizeClasses.PAGE_SHIFT;
        int[] info = pageInfo;
        if (arena == null || page >= info.length) {
            return null;
        }
        int first = (int) (page & (HeapArena.PAGES - 1)) - (info[(int) page] >>> 8);
        return first < 0 ? null : arena.spans[first];
    }

    // ---------------------------------------------------------------- spans

    /** A new span of size class {@code sizeClass}. Called by that class's central list, holding its lock. */
    Span allocateSmallSpan(int sizeClass) {
        int pages = SizeClasses.SPAN_PAGES[sizeClass];
        acquire();
        try {
            Span span = allocateRun(pages, 1, sizeClass, "allocate", (long) pages << SizeClasses.PAGE_SHIFT);
            int[] info = pageInfo;
            for (int i = 0; i < pages; i++) {
                info[(int) (span.firstPage + i)] = sizeClass | i << 8;
            }
            smallSpans++;
            return span;
        } finally {
            lock.unlock();
        }
    }

    /** A large-object span of {@code pages} pages whose start is aligned to {@code alignPages} pages. */
    Span allocateLarge(long requestedBytes, int pages, int alignPages) {
        acquire();
        try {
            Span span = allocateRun(pages, alignPages, 0, "allocate", requestedBytes);
            int[] info = pageInfo;
            for (int i = 1; i < pages; i++) {
                info[(int) (span.firstPage + i)] = i << 8;
            }
            span.requestedBytes = requestedBytes;
            largeSpans++;
            largeAllocations++;
            largeObjectBytes += span.bytes();
            largeRequestedBytes += requestedBytes;
            return span;
        } finally {
            lock.unlock();
        }
    }

    /** Frees a large span; false if it was not in use (a double free), with nothing changed. */
    boolean freeLarge(Span span) {
        acquire();
        try {
            if (!span.inUse || spanAt(span.start) != span) {
                return false;
            }
            largeSpans--;
            largeFrees++;
            largeObjectBytes -= span.bytes();
            largeRequestedBytes -= span.requestedBytes;
            java.util.Arrays.fill(pageInfo, (int) span.firstPage, (int) (span.firstPage + span.pages), 0);
            freeSpan(span);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Returns an empty small span. Called by its central list, holding its lock. */
    void freeSmallSpan(Span span) {
        acquire();
        try {
            java.util.Arrays.fill(pageInfo, (int) span.firstPage, (int) (span.firstPage + span.pages), 0);
            smallSpans--;
            freeSpan(span);
        } finally {
            lock.unlock();
        }
    }

    private Span allocateRun(int pages, int alignPages, int sizeClass, String operation, long requestBytes) {
        assert lock.isHeldByCurrentThread();
        long searchLength = (long) pages + alignPages - 1;
        if (searchLength > HeapArena.PAGES) {
            throw new IllegalStateException(pages + " pages at " + alignPages + "-page alignment do not fit an arena");
        }
        long runStart;
        int runLength;
        long start;
        HeapArena arena;
        int local;
        int dirtyPages;
        while (true) {
            long key = freeRuns.ceiling(searchLength << KEY_PAGE_BITS);
            while (key == LongTreeSet.NONE) {
                // The scavenger may hold the run that fits out of the index while it releases it:
                // wait for that run instead of mapping another arena (the soak test saw a third
                // arena reserved for a 48 MiB live set when this was missing).
                if (runBeingReleasedLength >= searchLength && awaitRunBeingReleased()) {
                    key = freeRuns.ceiling(searchLength << KEY_PAGE_BITS);
                    continue;
                }
                addArena(operation, requestBytes);
                key = freeRuns.ceiling(searchLength << KEY_PAGE_BITS);
            }
            runStart = key & KEY_PAGE_MASK;
            runLength = (int) (key >>> KEY_PAGE_BITS);
            start = (runStart + alignPages - 1) / alignPages * alignPages;
            arena = arenas[(int) (start >>> (HeapArena.SHIFT - SizeClasses.PAGE_SHIFT))];
            local = (int) (start - arena.firstPage);
            dirtyPages = arena.countDirty(local, pages);
            long growth = (long) (pages - dirtyPages) << SizeClasses.PAGE_SHIFT;
            if (heldBytes() + growth <= maxHeapBytes) {
                break;
            }
            // Make room by releasing free pages, then decide again with the same run.
            releaseAllFree(runStart);
            if (heldBytes() + growth <= maxHeapBytes) {
                break;
            }
            if (!awaitRunBeingReleased()) {
                throw Errors.overLimit(operation, requestBytes, maxHeapBytes, heldBytes());
            }
            // The lock was dropped while waiting: the free runs may have changed, so search again.
        }
        long since = arena.freeRunSince[(int) (runStart - arena.firstPage)];
        removeRun(arena, (int) (runStart - arena.firstPage), runLength);
        int head = (int) (start - runStart);
        int tail = runLength - head - pages;
        if (head > 0) {
            insertRun(arena, (int) (runStart - arena.firstPage), head, since);
        }
        if (tail > 0) {
            insertRun(arena, local + pages, tail, since);
        }
        dirtyFreePages -= dirtyPages;
        freePages -= pages;
        pagesInSpans += pages;
        arena.setDirty(local, pages, true);
        Span span = new Span(arena.base + ((long) local << SizeClasses.PAGE_SHIFT), start, pages, sizeClass,
                dirtyPages > 0, checked);
        // The first page only: a reference store per page ran G1's post-write barrier for each
        // (the span is young, the table old), which tripled the large-object path. Other pages
        // find the span through pageInfo (spanAt).
        arena.spans[local] = span;
        return span;
    }

    private void freeSpan(Span span) {
        assert lock.isHeldByCurrentThread();
        span.inUse = false;
        HeapArena arena = arenas[(int) (span.firstPage >>> (HeapArena.SHIFT - SizeClasses.PAGE_SHIFT))];
        int local = (int) (span.firstPage - arena.firstPage);
        arena.spans[local] = null;
        pagesInSpans -= span.pages;
        freePages += span.pages;
        dirtyFreePages += span.pages;
        coalesceAndInsert(arena, local, span.pages, System.nanoTime());
    }

    /** Inserts a free run, first merging it with free neighbours so that no two runs touch. */
    private void coalesceAndInsert(HeapArena arena, int start, int length, long since) {
        if (start > 0) {
            int before = arena.freeRunAtEnd[start - 1];
            if (before > 0) {
                removeRun(arena, start - before, before);
                start -= before;
                length += before;
            }
        }
        int end = start + length;
        if (end < HeapArena.PAGES) {
            int after = arena.freeRunAtStart[end];
            if (after > 0) {
                removeRun(arena, end, after);
                length += after;
            }
        }
        insertRun(arena, start, length, since);
    }

    private void insertRun(HeapArena arena, int start, int length, long since) {
        arena.freeRunAtStart[start] = length;
        arena.freeRunAtEnd[start + length - 1] = length;
        arena.freeRunSince[start] = since;
        freeRuns.add((long) length << KEY_PAGE_BITS | (arena.firstPage + start));
    }

    private void removeRun(HeapArena arena, int start, int length) {
        arena.freeRunAtStart[start] = 0;
        arena.freeRunAtEnd[start + length - 1] = 0;
        boolean removed = freeRuns.remove((long) length << KEY_PAGE_BITS | (arena.firstPage + start));
        assert removed : "free run " + start + "+" + length + " missing from the index";
    }

    private void addArena(String operation, long requestBytes) {
        if (arenaCount == maxArenas) {
            throw Errors.addressSpaceFull(operation, requestBytes, maxArenas, addressSpaceBytes);
        }
        int index = arenaCount;
        long arenaBase = base + ((long) index << HeapArena.SHIFT);
        try {
            OsMemory.commit(arenaBase, HeapArena.BYTES);
        } catch (OutOfMemoryError refused) {
            throw Errors.osRefused(operation, requestBytes, maxHeapBytes, heldBytes(), refused);
        }
        HeapArena arena = new HeapArena(index, arenaBase, (long) index * HeapArena.PAGES);
        int neededPages = (index + 1) * HeapArena.PAGES;
        if (pageInfo.length < neededPages) {
            int[] grown = new int[Math.min(Math.max(neededPages, pageInfo.length * 2), maxArenas * HeapArena.PAGES)];
            System.arraycopy(pageInfo, 0, grown, 0, pageInfo.length);
            pageInfo = grown;
            pageInfoReplaced.accept(grown);
        }
        arenas[index] = arena;
        arenaCount = index + 1;
        arenaReservations++;
        freePages += HeapArena.PAGES;
        insertRun(arena, 0, HeapArena.PAGES, System.nanoTime());
    }

    // ---------------------------------------------------------------- objects larger than an arena

    long mapDedicated(long requestedBytes, long alignment, java.lang.foreign.Arena scope) {
        // At least one OS page: mmap refuses a length of zero.
        long mappedBytes = Math.max(OsMemory.OS_PAGE_SIZE, (requestedBytes + OsMemory.OS_PAGE_SIZE - 1) & -OsMemory.OS_PAGE_SIZE);
        acquire();
        try {
            while (heldBytes() + mappedBytes > maxHeapBytes) {
                releaseAllFree(-1);
                if (heldBytes() + mappedBytes > maxHeapBytes && !awaitRunBeingReleased()) {
                    throw Errors.overLimit("allocate", requestedBytes, maxHeapBytes, heldBytes());
                }
            }
            long address;
            try {
                address = OsMemory.mapAligned(mappedBytes, alignment);
            } catch (OutOfMemoryError refused) {
                throw Errors.osRefused("allocate", requestedBytes, maxHeapBytes, heldBytes(), refused);
            }
            dedicated.put(address, new DedicatedMapping(address, mappedBytes, requestedBytes, scope));
            dedicatedBytes += mappedBytes;
            dedicatedAllocations++;
            dedicatedRequestedBytes += requestedBytes;
            return address;
        } finally {
            lock.unlock();
        }
    }

    DedicatedMapping dedicatedAt(long address) {
        acquire();
        try {
            return dedicated.get(address);
        } finally {
            lock.unlock();
        }
    }

    /** Unmaps a dedicated mapping; null if {@code address} is not the start of one. */
    DedicatedMapping unmapDedicated(long address) {
        DedicatedMapping mapping;
        acquire();
        try {
            mapping = dedicated.remove(address);
            if (mapping == null) {
                return null;
            }
            dedicatedBytes -= mapping.mappedBytes();
            dedicatedFrees++;
            dedicatedRequestedBytes -= mapping.requestedBytes();
        } finally {
            lock.unlock();
        }
        if (mapping.scope() != null) {
            mapping.scope().close();
        }
        OsMemory.unmap(mapping.address(), mapping.mappedBytes());
        return mapping;
    }

    // ---------------------------------------------------------------- returning memory

    /**
     * Releases every dirty free run to the OS (MADV_DONTNEED), except the run starting at
     * {@code keepRunStart}; returns the bytes released. Holds the lock throughout: this is the
     * synchronous path (an explicit call, or a limit about to be passed).
     */
    long releaseAllFree(long keepRunStart) {
        assert lock.isHeldByCurrentThread();
        long released = 0;
        for (long key = freeRuns.first(); key != LongTreeSet.NONE; key = freeRuns.higher(key)) {
            long runStart = key & KEY_PAGE_MASK;
            if (runStart != keepRunStart) {
                released += releaseRun(runStart, (int) (key >>> KEY_PAGE_BITS));
            }
        }
        return released;
    }

    /**
     * One scavenger pass: while dirty free memory is above {@code retainBytes}, releases free runs
     * that have been free for at least {@code minIdleNanos}, longest first. The madvise calls run
     * outside the lock, with the run taken out of the free index meanwhile.
     */
    long scavenge(long retainBytes, long minIdleNanos) {
        scavengeLock.lock();
        try {
            return scavengeRuns(retainBytes, minIdleNanos);
        } finally {
            scavengeLock.unlock();
        }
    }

    private long scavengeRuns(long retainBytes, long minIdleNanos) {
        long released = 0;
        long now = System.nanoTime();
        while (true) {
            long runStart;
            int runLength;
            HeapArena arena;
            acquire();
            try {
                if (dirtyFreePages << SizeClasses.PAGE_SHIFT <= retainBytes) {
                    return released;
                }
                long chosen = LongTreeSet.NONE;
                for (long key = freeRuns.last(); key != LongTreeSet.NONE && chosen == LongTreeSet.NONE;
                        key = freeRuns.lower(key)) {
                    long start = key & KEY_PAGE_MASK;
                    HeapArena a = arenaOfPage(start);
                    int local = (int) (start - a.firstPage);
                    int length = (int) (key >>> KEY_PAGE_BITS);
                    if (now - a.freeRunSince[local] >= minIdleNanos && a.countDirty(local, length) > 0) {
                        chosen = key;
                    }
                }
                if (chosen == LongTreeSet.NONE) {
                    return released;
                }
                runStart = chosen & KEY_PAGE_MASK;
                runLength = (int) (chosen >>> KEY_PAGE_BITS);
                arena = arenaOfPage(runStart);
                // Out of the index while the lock is dropped, so nobody allocates or merges it.
                removeRun(arena, (int) (runStart - arena.firstPage), runLength);
                runBeingReleased = runStart;
                runBeingReleasedLength = runLength;
            } finally {
                lock.unlock();
            }
            long address = arena.base + ((runStart - arena.firstPage) << SizeClasses.PAGE_SHIFT);
            whileReleasing.run();
            OsMemory.release(address, (long) runLength << SizeClasses.PAGE_SHIFT);
            acquire();
            try {
                int local = (int) (runStart - arena.firstPage);
                int dirtyPages = arena.countDirty(local, runLength);
                arena.setDirty(local, runLength, false);
                dirtyFreePages -= dirtyPages;
                runBeingReleased = -1;
                runReleased.signalAll();
                long bytes = (long) dirtyPages << SizeClasses.PAGE_SHIFT;
                released += bytes;
                releasedBytesTotal += bytes;
                coalesceAndInsert(arena, local, runLength, arena.freeRunSince[local]);
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * At the limit, after {@link #releaseAllFree}: if the scavenger is releasing a run without the
     * lock, those dirty pages still count as held but are about to stop counting, so failing now
     * would be wrong. Waits (dropping the lock) until the run is back and returns true; returns
     * false at once when no release is in flight. Called holding the lock exactly once.
     */
    private boolean awaitRunBeingReleased() {
        assert lock.isHeldByCurrentThread() && lock.getHoldCount() == 1;
        if (runBeingReleased == -1) {
            return false;
        }
        while (runBeingReleased != -1) {
            runReleased.awaitUninterruptibly();
        }
        return true;
    }

    private long releaseRun(long runStart, int runLength) {
        HeapArena arena = arenaOfPage(runStart);
        int local = (int) (runStart - arena.firstPage);
        int dirtyPages = arena.countDirty(local, runLength);
        if (dirtyPages == 0) {
            return 0;
        }
        OsMemory.release(arena.base + ((long) local << SizeClasses.PAGE_SHIFT), (long) runLength << SizeClasses.PAGE_SHIFT);
        arena.setDirty(local, runLength, false);
        dirtyFreePages -= dirtyPages;
        long bytes = (long) dirtyPages << SizeClasses.PAGE_SHIFT;
        releasedBytesTotal += bytes;
        return bytes;
    }

    private HeapArena arenaOfPage(long page) {
        return arenas[(int) (page >>> (HeapArena.SHIFT - SizeClasses.PAGE_SHIFT))];
    }

    // ---------------------------------------------------------------- observation

    /** Length in pages of the longest free run (external fragmentation: the largest request servable without growing). */
    long largestFreeRunPages() {
        assert lock.isHeldByCurrentThread();
        return freeRuns.isEmpty() ? 0 : freeRuns.last() >>> KEY_PAGE_BITS;
    }

    int freeRunCount() {
        assert lock.isHeldByCurrentThread();
        return freeRuns.size();
    }

    int dedicatedCount() {
        assert lock.isHeldByCurrentThread();
        return dedicated.size();
    }

    /**
     * Checks the page heap's equations, holding the lock: per arena, pages in spans + free pages
     * == pages; free runs agree with the index and are coalesced; the page map points every page
     * of a span to it and {@link #pageInfo} agrees; the counters agree with a recount. Returns the
     * first broken one, or null.
     */
    String verify() {
        acquire();
        try {
            long spanPages = 0;
            long free = 0;
            long dirtyFree = 0;
            long small = 0;
            long large = 0;
            long largeBytes = 0;
            int runs = 0;
            for (int a = 0; a < arenaCount; a++) {
                HeapArena arena = arenas[a];
                int page = 0;
                boolean previousWasFree = false;
                while (page < HeapArena.PAGES) {
                    Span span = arena.spans[page];
                    if (span != null) {
                        if (arena.freeRunAtStart[page] != 0) {
                            return "page " + (arena.firstPage + page) + " is in span " + span + " and starts a free run";
                        }
                        if (span.firstPage != arena.firstPage + page) {
                            return "page map of arena " + a + " points page " + page + " into span " + span + " which starts elsewhere";
                        }
                        for (int i = 0; i < span.pages; i++) {
                            if (i > 0 && arena.spans[page + i] != null) {
                                return "page " + (page + i) + " inside span " + span + " has a span entry " + arena.spans[page + i];
                            }
                            int expected = span.sizeClass | i << 8;
                            if (pageInfo[(int) (span.firstPage + i)] != expected) {
                                return "pageInfo of page " + (span.firstPage + i) + " is " + pageInfo[(int) (span.firstPage + i)]
                                        + ", expected " + expected + " for span " + span;
                            }
                        }
                        if (span.isLarge()) {
                            large++;
                            largeBytes += span.bytes();
                        } else {
                            small++;
                        }
                        spanPages += span.pages;
                        page += span.pages;
                        previousWasFree = false;
                    } else if (arena.firstPage + page == runBeingReleased) {
                        int length = runBeingReleasedLength;
                        free += length;
                        dirtyFree += arena.countDirty(page, length);
                        page += length;
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
                        if (!freeRuns.contains((long) length << KEY_PAGE_BITS | (arena.firstPage + page))) {
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
                        free += length;
                        dirtyFree += arena.countDirty(page, length);
                        runs++;
                        page += length;
                        previousWasFree = true;
                    }
                }
            }
            if (runs != freeRuns.size()) {
                return "free-run index holds " + freeRuns.size() + " runs, arenas hold " + runs;
            }
            if (spanPages + free != (long) arenaCount * HeapArena.PAGES) {
                return "pages in spans " + spanPages + " + free pages " + free + " != " + arenaCount + " arenas' pages";
            }
            if (spanPages != pagesInSpans || free != freePages || dirtyFree != dirtyFreePages) {
                return "page counters (in spans " + pagesInSpans + ", free " + freePages + ", dirty free " + dirtyFreePages
                        + ") disagree with a recount (" + spanPages + ", " + free + ", " + dirtyFree + ")";
            }
            if (small != smallSpans || large != largeSpans || largeBytes != largeObjectBytes) {
                return "span counters (small " + smallSpans + ", large " + largeSpans + ", large bytes " + largeObjectBytes
                        + ") disagree with a recount (" + small + ", " + large + ", " + largeBytes + ")";
            }
            long mapped = 0;
            for (DedicatedMapping m : dedicated.values()) {
                mapped += m.mappedBytes();
            }
            if (mapped != dedicatedBytes) {
                return "dedicated mappings add up to " + mapped + " bytes, counter says " + dedicatedBytes;
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** Visits every in-use span (holding the lock). */
    void forEachSpan(java.util.function.Consumer<Span> action) {
        assert lock.isHeldByCurrentThread();
        for (int a = 0; a < arenaCount; a++) {
            HeapArena arena = arenas[a];
            int page = 0;
            while (page < HeapArena.PAGES) {
                Span span = arena.spans[page];
                if (span != null) {
                    action.accept(span);
                    page += span.pages;
                } else if (arena.firstPage + page == runBeingReleased) {
                    page += runBeingReleasedLength;
                } else {
                    page += arena.freeRunAtStart[page];
                }
            }
        }
    }

    /** Unmaps the whole address range. The caller guarantees nothing uses the heap any more. */
    void unmapAll() {
        acquire();
        try {
            for (DedicatedMapping m : dedicated.values()) {
                if (m.scope() != null) {
                    m.scope().close();
                }
                OsMemory.unmap(m.address(), m.mappedBytes());
            }
            dedicated.clear();
            dedicatedBytes = 0;
            OsMemory.unmap(base, addressSpaceBytes);
            pageInfo = new int[0];
            pageInfoReplaced.accept(pageInfo);
        } finally {
            lock.unlock();
        }
    }
}
