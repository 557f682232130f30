package dev.spanheap;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Returns one page heap's dirty free runs to the OS with MADV_DONTNEED: the synchronous path, and
 * the scavenger's pass with the madvise outside the lock; Go's page scavenging in
 * {@code mgcscavenge.go} ({@code pageAlloc.scavenge}, which likewise takes the pages out of the
 * allocator while it releases them unlocked) together with {@code mheap.scavengeAll}. One per
 * {@link PageHeap}, owned by it. Its callers (the {@link Scavenger}'s policy,
 * {@code releaseFreeMemory()}, the limit) decide when and how much; this class decides how.
 *
 * <p><b>The synchronous path</b> ({@link #releaseAllFree}: {@code releaseFreeMemory()}, or an
 * allocation at the limit) holds the page heap's lock throughout: its caller needs the memory
 * back before it goes on.
 *
 * <p><b>The scavenger's pass</b> ({@link #scavenge}) runs beside the page heap's allocations, so it
 * must not hold their lock across an madvise. Per run it takes the run out of the free-run index
 * under the lock, releases it without the lock, and puts it back (coalesced) under the lock.
 * Meanwhile {@link #runBeingReleased} names it, so that {@link PageHeap#verify} still counts it as
 * free and an allocation that only it could serve waits for it ({@link #awaitRunBeingReleased})
 * instead of mapping another arena.
 *
 * <p>What it changes of the page heap: the dirty bits of its arenas and its free-run index, with
 * the runs' dirty-page counts (all guarded by its lock), and its dirty free pages and held bytes, only through
 * {@link PageHeap#dirtyPagesReleased}. A release the kernel refuses changes nothing but
 * {@link #releaseFailures}.
 *
 * <p>Synchronization: every mutable field but the test hook (set by a test between passes) and
 * the failure log (set before first use) is guarded by the page heap's lock
 * ({@link PageHeap#lock}); {@link #scavengeLock} serializes scavenger passes and is taken before it.
 */
final class PageReleaser {

    private final PageHeap pageHeap;
    /** The page heap's lock: this class keeps no lock of its own for the pages. */
    private final ReentrantLock lock;
    private final AddressRange range;
    /** The page heap's free runs, guarded by its lock. */
    private final FreeRunIndex freeRuns;
    /** Serializes scavenger passes (they use {@link #runBeingReleased}); taken before the page heap's lock. */
    private final ReentrantLock scavengeLock = new ReentrantLock();
    /**
     * The free run a scavenger pass has taken out of the index while it releases it without the
     * lock ({@code -1} when none), so that {@link PageHeap#verify} can count it as free.
     */
    private long runBeingReleased = -1;
    /** The pages of {@link #runBeingReleased}; 0 when none. */
    private int runBeingReleasedLength;
    /** Signalled (under the lock) when the scavenger puts {@link #runBeingReleased} back. */
    private final Condition runReleased;
    /**
     * Test hook: runs in the scavenging thread while {@link #runBeingReleased} is out of the index
     * and the lock is not held, just before the madvise call.
     */
    Runnable whileReleasing = () -> { };
    /** Releases the kernel refused (their pages stay dirty and held). Guarded by the lock. */
    private long releaseFailures;
    /** Bytes released to the OS since creation. Guarded by the lock. */
    private long releasedBytesTotal;
    /** Reports the heap's first refused release; shared by its page heaps (SpanHeap sets it before first use). */
    ReleaseFailureLog releaseFailureLog = new ReleaseFailureLog("(page heap)");

    /** The releaser of {@code pageHeap}, whose {@code freeRuns} it takes runs from; only keeps the references. */
    PageReleaser(PageHeap pageHeap, AddressRange range, FreeRunIndex freeRuns) {
        this.pageHeap = pageHeap;
        this.lock = pageHeap.lock;
        this.range = range;
        this.freeRuns = freeRuns;
        this.runReleased = lock.newCondition();
    }

    /**
     * Releases every dirty free run to the OS (MADV_DONTNEED), except the run starting at
     * {@code keepRunStart}; returns the bytes released. Holds the lock throughout: this is the
     * synchronous path (an explicit call, or a limit about to be passed).
     */
    long releaseAllFree(long keepRunStart) {
        assert lock.isHeldByCurrentThread();
        long[] released = {0};
        freeRuns.visitLongestFirst(key -> {
            long runStart = FreeRunIndex.start(key);
            if (runStart != keepRunStart) {
                released[0] += releaseRun(runStart, FreeRunIndex.length(key));
            }
            return true;
        });
        return released[0];
    }

    /** {@link #releaseAllFree} of every run, then a wait for the scavenger's release in flight, if any. */
    long releaseAllFreeAndAwaitScavenger() {
        pageHeap.acquire();
        try {
            long released = releaseAllFree(-1);
            awaitRunBeingReleased(0);
            return released;
        } finally {
            lock.unlock();
        }
    }

    /**
     * One scavenger pass over the page heap: while its dirty free memory is above
     * {@code retainBytes}, releases free runs that have been free for at least
     * {@code minIdleNanos}, longest first. The madvise calls run outside the lock, with the run
     * taken out of the free index meanwhile.
     */
    long scavenge(long retainBytes, long minIdleNanos) {
        return scavenge(retainBytes, minIdleNanos, range.hugePages);
    }

    /**
     * {@link #scavenge(long, long)}, releasing with {@code keepHugePages} only the parts of each
     * run that {@link HugePageRelease} picks (whole 2 MiB regions, and parts of regions that are
     * not nearly full).
     */
    long scavenge(long retainBytes, long minIdleNanos, boolean keepHugePages) {
        scavengeLock.lock();
        try {
            return scavengeRuns(retainBytes, minIdleNanos, keepHugePages);
        } finally {
            scavengeLock.unlock();
        }
    }

    private long scavengeRuns(long retainBytes, long minIdleNanos, boolean keepHugePages) {
        long released = 0;
        long now = System.nanoTime();
        while (true) {
            long runStart;
            int runLength;
            HeapArena arena;
            int[] pieces;
            pageHeap.acquire();
            try {
                if (pageHeap.dirtyFreeBytesLocked() <= retainBytes) {
                    return released;
                }
                long[] found = {FreeRunIndex.NONE};
                int[][] foundPieces = {null};
                freeRuns.visitLongestFirst(key -> {
                    long start = FreeRunIndex.start(key);
                    HeapArena a = range.arenaOfPage(start);
                    int local = (int) (start - a.firstPage);
                    if (now - a.freeRunSince[local] >= minIdleNanos) {
                        int[] releasable = HugePageRelease.pieces(a, local, FreeRunIndex.length(key), keepHugePages);
                        if (releasable.length > 0) {
                            found[0] = key;
                            foundPieces[0] = releasable;
                            return false;
                        }
                    }
                    return true;
                });
                long chosen = found[0];
                pieces = foundPieces[0];
                if (chosen == FreeRunIndex.NONE) {
                    return released;
                }
                runStart = FreeRunIndex.start(chosen);
                runLength = FreeRunIndex.length(chosen);
                arena = range.arenaOfPage(runStart);
                // Out of the index while the lock is dropped, so nobody allocates or merges it.
                freeRuns.remove(arena, (int) (runStart - arena.firstPage), runLength);
                runBeingReleased = runStart;
                runBeingReleasedLength = runLength;
            } finally {
                lock.unlock();
            }
            whileReleasing.run();
            boolean[] releasedToOs = new boolean[pieces.length / 2];
            boolean refused = false;
            for (int p = 0; p < pieces.length; p += 2) {
                releasedToOs[p / 2] = tryRelease(arena.base + ((long) pieces[p] << SizeClasses.PAGE_SHIFT),
                        (long) pieces[p + 1] << SizeClasses.PAGE_SHIFT);
                refused |= !releasedToOs[p / 2];
            }
            pageHeap.acquire();
            try {
                int local = (int) (runStart - arena.firstPage);
                int dirtyPages = 0;
                for (int p = 0; p < pieces.length; p += 2) {
                    if (releasedToOs[p / 2]) {
                        dirtyPages += arena.countDirty(pieces[p], pieces[p + 1]);
                        arena.setDirty(pieces[p], pieces[p + 1], false);
                    }
                }
                if (refused) {
                    // Refused: the pieces not released stay dirty and held, and this pass ends
                    // (longest first would pick the same run again); the next pass tries again.
                    releaseFailures++;
                }
                runBeingReleased = -1;
                runBeingReleasedLength = 0;
                runReleased.signalAll();
                long bytes = (long) dirtyPages << SizeClasses.PAGE_SHIFT;
                released += bytes;
                releasedBytesTotal += bytes;
                pageHeap.dirtyPagesReleased(dirtyPages);
                freeRuns.coalesceAndInsert(arena, local, runLength, arena.countDirty(local, runLength), arena.freeRunSince[local]);
                if (refused) {
                    return released;
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * If a scavenger pass is releasing a run of at least {@code minPages} pages without the lock,
     * those dirty pages still count as held but are about to stop counting: waits (dropping the
     * lock) until the run is back and returns true; returns false at once when no such release is
     * in flight. Called holding the page heap's lock exactly once.
     */
    boolean awaitRunBeingReleased(long minPages) {
        assert lock.isHeldByCurrentThread() && lock.getHoldCount() == 1;
        if (runBeingReleased == -1 || runBeingReleasedLength < minPages) {
            return false;
        }
        while (runBeingReleased != -1) {
            runReleased.awaitUninterruptibly();
        }
        return true;
    }

    private long releaseRun(long runStart, int runLength) {
        HeapArena arena = range.arenaOfPage(runStart);
        int local = (int) (runStart - arena.firstPage);
        int dirtyPages = arena.freeRunDirty[local]; // the run's count, kept with it (PageHeap.verify checks it)
        if (dirtyPages == 0) {
            return 0;
        }
        if (!tryRelease(arena.base + ((long) local << SizeClasses.PAGE_SHIFT), (long) runLength << SizeClasses.PAGE_SHIFT)) {
            releaseFailures++;
            return 0;
        }
        arena.setDirty(local, runLength, false);
        arena.freeRunDirty[local] = 0; // the run stays in the index, clean now
        long bytes = (long) dirtyPages << SizeClasses.PAGE_SHIFT;
        releasedBytesTotal += bytes;
        pageHeap.dirtyPagesReleased(dirtyPages);
        return bytes;
    }

    /**
     * madvise(MADV_DONTNEED) of a free run; false if the kernel refused (EINVAL for locked pages,
     * for instance), reported once per heap. Nothing is changed either way: the caller updates the
     * pages' state only on success.
     */
    private boolean tryRelease(long address, long bytes) {
        try {
            OsMemory.release(address, bytes);
            return true;
        } catch (IllegalStateException refused) {
            releaseFailureLog.report(refused);
            return false;
        }
    }

    // ---------------------------------------------------------------- observation

    /** First page of the run a scavenger pass is releasing without the lock, or -1. Holding the lock. */
    long runBeingReleased() {
        assert lock.isHeldByCurrentThread();
        return runBeingReleased;
    }

    /** Pages of {@link #runBeingReleased()}, 0 when none. Holding the lock. */
    int runBeingReleasedLength() {
        assert lock.isHeldByCurrentThread();
        return runBeingReleasedLength;
    }

    /** Bytes released to the OS since creation. Holding the lock. */
    long releasedBytesTotal() {
        assert lock.isHeldByCurrentThread();
        return releasedBytesTotal;
    }

    /** Releases the kernel refused since creation. Holding the lock. */
    long releaseFailures() {
        assert lock.isHeldByCurrentThread();
        return releaseFailures;
    }
}
