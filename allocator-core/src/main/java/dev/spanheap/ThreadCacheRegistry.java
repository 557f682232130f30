package dev.spanheap;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Which thread uses which {@link ThreadCache}, and on which shard; Go's list of Ps with their
 * mcaches. A platform thread gets a cache of its own on its first slow-path visit, bound to the
 * shard with the fewest live threads (so that up to as many threads as shards each have a page
 * heap and central lists to themselves, and threads that come and go reuse the same shards);
 * the cache is reclaimed and flushed when the thread has ended. Virtual threads share a small
 * fixed set of caches, picked by the CPU they run on ({@link CurrentCpu}) so that carrier threads
 * on different CPUs take different ones, each used under its lock and bound to a shard of its
 * own; platform threads whose table entry is taken share them too (picked by thread id).
 *
 * <p>Synchronization: {@link #caches} entries are written under {@link #lock} and read without it
 * by their owner only (a stale entry fails the owner check); everything else is guarded by the lock.
 */
final class ThreadCacheRegistry {

    /** Thread caches are found by {@code threadId & INDEX_MASK}. */
    static final int INDEX_BITS = 12;
    static final int INDEX_MASK = (1 << INDEX_BITS) - 1;

    /**
     * Platform threads' caches by {@code threadId & INDEX_MASK}: written under the lock, read
     * without it on the fast paths, where the owner check rejects an entry that is not the
     * reader's. {@link #close} clears it, so that the fast paths fall through to the closed check.
     */
    final ThreadCache[] caches = new ThreadCache[1 << INDEX_BITS];
    /** Caches shared by virtual threads (and platform threads whose index is taken), each used under its lock. */
    private final ThreadCache[] sharedCaches;
    private final int sharedMask;
    private final CentralLists centrals;
    private final int shards;
    /** The heap profile's mean bytes between samples, for new caches' countdowns; 0 when off. */
    private final long sampleBytes;

    private final ReentrantLock lock = new ReentrantLock();
    /** Every owned cache. Guarded by the lock. */
    private final List<ThreadCache> ownedCaches = new ArrayList<>();
    /** Live owned caches bound to each shard. Guarded by the lock. */
    private final int[] cachesPerShard;
    /** Counters of reclaimed caches, per class. Guarded by the lock. */
    private final long[] retiredPops = new long[SizeClasses.CLASS_COUNT];
    private final long[] retiredFrees = new long[SizeClasses.CLASS_COUNT];
    /** The page-cache counts of reclaimed caches (their runs were given back). Guarded by the lock. */
    private PageCache.Counts retiredPageCaches = PageCache.Counts.NONE;
    private boolean closed;

    /**
     * What the caches hold and have counted, read under the lock (other threads' counters racily:
     * exact at rest): per class, slots cached, pops and frees; the page caches' counts summed; and
     * the number of caches.
     */
    record Snapshot(long[] cachedSlots, long[] pops, long[] frees, PageCache.Counts pageCaches, int caches) {
    }

    /** Pages of each owned cache's page cache ({@link SpanHeapConfig#pageCacheBytes}); 0 when off. */
    private final int pageCachePages;

    ThreadCacheRegistry(CentralLists centrals, long sampleBytes, long pageCacheBytes) {
        this.centrals = centrals;
        this.sampleBytes = sampleBytes;
        this.pageCachePages = (int) (pageCacheBytes >>> SizeClasses.PAGE_SHIFT);
        this.shards = centrals.shards();
        this.cachesPerShard = new int[shards];
        // A power of two at least twice the processors, so that a CPU number picks one with a mask.
        int shared = Math.max(2, 2 * Runtime.getRuntime().availableProcessors());
        this.sharedCaches = new ThreadCache[Integer.highestOneBit(shared - 1) << 1];
        this.sharedMask = sharedCaches.length - 1;
        for (int i = 0; i < sharedCaches.length; i++) {
            sharedCaches[i] = new ThreadCache(null, i % shards, sampleBytes);
        }
    }

    /** The current platform thread's own cache, or null (not registered yet, virtual, or closed). */
    ThreadCache ownCache() {
        Thread thread = Thread.currentThread();
        ThreadCache cache = caches[(int) thread.threadId() & INDEX_MASK];
        return cache != null && cache.owner == thread ? cache : null;
    }

    /**
     * The cache the current thread uses off the fast path: its own (registered on first use), or
     * for a virtual thread (or a platform thread whose index is taken) a shared one, which the
     * caller must lock ({@link ThreadCache#sharedLock}).
     *
     * @throws IllegalStateException if the registry is closed
     */
    ThreadCache cacheForCurrentThread() {
        Thread thread = Thread.currentThread();
        if (thread.isVirtual()) {
            return sharedCacheOfCpu();
        }
        ThreadCache cache = ownCache();
        if (cache != null) {
            return cache;
        }
        int index = (int) thread.threadId() & INDEX_MASK;
        lock.lock();
        try {
            if (closed) {
                throw Errors.closed("allocate");
            }
            reclaimDeadLocked();
            cache = caches[index];
            if (cache == null) {
                cache = new ThreadCache(thread, leastUsedShard(), sampleBytes, pageCachePages);
                cachesPerShard[cache.shard]++;
                ownedCaches.add(cache);
                caches[index] = cache;
                return cache;
            }
            if (cache.owner == thread) {
                return cache;
            }
            return sharedCaches[(int) thread.threadId() & sharedMask];
        } finally {
            lock.unlock();
        }
    }

    /** The shared cache of the CPU the caller runs on (virtual threads use it under its {@link ThreadCache#sharedLock}). */
    ThreadCache sharedCacheOfCpu() {
        return sharedCaches[CurrentCpu.index() & sharedMask];
    }

    /** The shard with the fewest live threads bound to it (the lowest such index). Holding the lock. */
    private int leastUsedShard() {
        int best = 0;
        for (int shard = 1; shard < shards; shard++) {
            if (cachesPerShard[shard] < cachesPerShard[best]) {
                best = shard;
            }
        }
        return best;
    }

    /** Gives back the caches of threads that have ended. */
    void reclaimDead() {
        lock.lock();
        try {
            reclaimDeadLocked();
        } finally {
            lock.unlock();
        }
    }

    private void reclaimDeadLocked() {
        for (int i = ownedCaches.size() - 1; i >= 0; i--) {
            ThreadCache cache = ownedCaches.get(i);
            // isAlive() == false orders the dead owner's last writes before our reads (JLS 17.4.4).
            if (!cache.owner.isAlive()) {
                cache.flush(centrals);
                for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                    retiredPops[c] += cache.pops(c);
                    retiredFrees[c] += cache.frees(c);
                }
                if (cache.pageCache != null) {
                    retiredPageCaches = retiredPageCaches.plus(cache.pageCache.counts());
                }
                ownedCaches.remove(i);
                cachesPerShard[cache.shard]--;
                int index = (int) cache.owner.threadId() & INDEX_MASK;
                if (caches[index] == cache) {
                    caches[index] = null;
                }
            }
        }
    }

    /** Gives the calling thread's cached slots back to the central lists (a virtual thread has none). */
    void flushCurrentThread() {
        ThreadCache cache = ownCache();
        if (cache != null) {
            cache.flush(centrals);
        }
    }

    /** Gives the calling thread's page-cache run, if any, back to its page heap (no registry lock: the caller may hold a central list's). */
    void returnOwnPageCacheRun() {
        ThreadCache cache = ownCache();
        if (cache != null && cache.pageCache != null) {
            cache.pageCache.takeBack();
        }
    }

    /**
     * Takes back to their page heaps the page-cache runs whose owners are not working on them at
     * this moment: every one (an explicit release, a failed allocation), or {@code idleOnly} those
     * not used since the last such call ({@link PageCache#takeBackIfIdle}: a scavenger pass).
     */
    void takeBackPageCacheRuns(boolean idleOnly) {
        lock.lock();
        try {
            for (ThreadCache cache : ownedCaches) {
                if (cache.pageCache == null) {
                    continue;
                }
                if (idleOnly) {
                    cache.pageCache.takeBackIfIdle();
                } else {
                    cache.pageCache.takeBack();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Flushes what this thread may flush safely: its own cache, ended threads' caches, and the shared caches. */
    void flushReachable() {
        flushCurrentThread();
        lock.lock();
        try {
            reclaimDeadLocked();
            for (ThreadCache shared : sharedCaches) {
                shared.sharedLock.lock();
                try {
                    shared.flush(centrals);
                } finally {
                    shared.sharedLock.unlock();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code action} with the registry lock held, after reclaiming ended threads' caches, on
     * every cache (owned and shared): no cache is reclaimed or flushed by another thread meanwhile,
     * so slots are neither counted twice nor missed. Lock order: the registry lock comes first.
     */
    <T> T withEveryCache(java.util.function.Function<List<ThreadCache>, T> action) {
        lock.lock();
        try {
            reclaimDeadLocked();
            List<ThreadCache> all = new ArrayList<>(ownedCaches);
            all.addAll(List.of(sharedCaches));
            return action.apply(all);
        } finally {
            lock.unlock();
        }
    }

    /** The caches' counters; see {@link #withEveryCache} for when it is exact. */
    Snapshot snapshotLocked(List<ThreadCache> all) {
        assert lock.isHeldByCurrentThread();
        long[] cachedSlots = new long[SizeClasses.CLASS_COUNT];
        long[] pops = retiredPops.clone();
        long[] frees = retiredFrees.clone();
        PageCache.Counts pageCaches = retiredPageCaches;
        for (ThreadCache cache : all) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                cachedSlots[c] += cache.count(c) + cache.remoteHeld(c);
                pops[c] += cache.pops(c);
                frees[c] += cache.frees(c);
            }
            if (cache.pageCache != null) {
                pageCaches = pageCaches.plus(cache.pageCache.counts());
            }
        }
        return new Snapshot(cachedSlots, pops, frees, pageCaches, all.size());
    }

    /** Stops handing out caches and clears the table, so that the fast paths fall through to the closed check. */
    void close() {
        lock.lock();
        try {
            closed = true;
            java.util.Arrays.fill(caches, null);
        } finally {
            lock.unlock();
        }
    }
}
