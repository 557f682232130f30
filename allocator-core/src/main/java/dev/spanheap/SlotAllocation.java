package dev.spanheap;

/**
 * The allocation of a small slot off the fast path: through the current thread's cache's slow
 * path (its own cache, or a shared one under that cache's lock), or in checked mode, which has no
 * caches, straight from the central list; with the heap profile's sample when one is due. Go's
 * small-object path of {@code mallocgc} after the cache misses ({@code mcache.nextFree} ->
 * {@code mcache.refill}). See {@code package-info.java} for the overview.
 *
 * <p>Synchronization: no mutable state of its own; a shared cache is used under its
 * {@link ThreadCache#sharedLock}, and the tiers below lock for themselves.
 */
final class SlotAllocation {

    private final boolean checked;
    private final int shards;
    private final CentralLists centrals;
    private final ThreadCacheRegistry registry;
    /** The sampled heap profile, or null when profiling is off. */
    private final HeapProfiler profiler;

    SlotAllocation(boolean checked, CentralLists centrals, ThreadCacheRegistry registry, HeapProfiler profiler) {
        this.checked = checked;
        this.shards = centrals.shards();
        this.centrals = centrals;
        this.registry = registry;
        this.profiler = profiler;
    }

    /** Allocates a slot of class {@code sizeClass} (not 0) for {@code byteSize} bytes; the address, with bit 0 set when known zero. */
    long allocate(long byteSize, int sizeClass) {
        if (checked) {
            long tagged = centrals.of(shardOfCurrentThread(), sizeClass).allocateChecked();
            if (profiler != null && profiler.drawSmall(sizeClass)) {
                profiler.sampleSlot(tagged & ~1L, byteSize, sizeClass);
            }
            return tagged;
        }
        ThreadCache cache = registry.cacheForCurrentThread();
        boolean sample;
        long tagged;
        if (cache.owner != null) {
            sample = cache.sampleDue(sizeClass);
            tagged = popOrRefill(cache, sizeClass);
        } else {
            cache.sharedLock.lock();
            try {
                sample = cache.sampleDue(sizeClass);
                tagged = popOrRefill(cache, sizeClass);
            } finally {
                cache.sharedLock.unlock();
            }
        }
        if (sample) {
            profiler.sampleSlot(tagged & ~1L, byteSize, sizeClass);
        }
        return tagged;
    }

    /**
     * The shard the current thread allocates spans and large objects from: its cache's (checked
     * mode has no caches: there the thread id picks one).
     */
    int shardOfCurrentThread() {
        return checked ? (int) (Thread.currentThread().threadId() % shards) : registry.cacheForCurrentThread().shard;
    }

    /**
     * A pop from {@code cache} (the current thread's, owned or locked), through its slow path
     * when the stack is empty or the class's sample countdown has run out; the caller, which
     * asked {@link ThreadCache#sampleDue} first, records the sample.
     */
    private long popOrRefill(ThreadCache cache, int sizeClass) {
        long tagged = cache.pop(sizeClass);
        if (tagged != 0) {
            return tagged;
        }
        return cache.popSlow(sizeClass, centrals);
    }
}
