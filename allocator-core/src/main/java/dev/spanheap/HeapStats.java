package dev.spanheap;

import java.util.List;

/**
 * A snapshot of a heap's statistics, in the spirit of Go's {@code runtime.MemStats} and jemalloc's
 * {@code stats.*}. Counters of other threads' caches are read without stopping them, so a
 * snapshot taken while other threads allocate is approximate; taken at rest it is exact (the tests
 * compare it with a full recount).
 *
 * <p>Byte figures, from the largest to the smallest:
 * {@code reservedBytes >= heldBytes >= spanBytes + dedicatedBytes >= allocatedBytes} (dedicated
 * mappings count in {@code allocatedBytes} but lie outside every span); memory held from the OS is
 * {@code heldBytes = spanBytes + retainedFreeBytes + dedicatedBytes}.
 *
 * @param liveObjects             objects allocated and not yet freed (small, large and dedicated)
 * @param allocatedBytes          bytes behind live objects: slot sizes, whole pages of large
 *                                objects, whole mappings of dedicated ones
 * @param reservedBytes           address space mapped for arenas plus dedicated mappings
 * @param arenas                  64 MiB arenas mapped
 * @param heldBytes               memory held from the OS, the figure {@code maxHeapBytes} limits
 * @param maxHeapBytes            the limit ({@code Long.MAX_VALUE} if none)
 * @param spanBytes               pages in spans (small and large)
 * @param freePageBytes           pages in free runs (retained or released)
 * @param retainedFreeBytes       free pages that may still be resident (not yet released)
 * @param releasedBytes           free pages known to be zero and not resident (never used, or released)
 * @param releasedBytesTotal      bytes released to the OS with MADV_DONTNEED since creation
 * @param residentEstimateBytes   upper estimate of resident memory: held minus nothing the heap knows
 *                                to be absent (pages in spans, retained free pages, mappings)
 * @param cachedBytes             free slots held in thread caches
 * @param pageCacheBytes          free pages held by threads' page caches for their large objects
 * @param freeSlotBytes           free slots in small spans, outside caches
 * @param largestFreeRunBytes     the longest free run: the largest request servable without a new arena
 * @param freeRuns                number of free runs
 * @param smallSpans              spans cut into slots
 * @param largeObjects            live objects of whole pages (over 32 KiB, within an arena)
 * @param largeObjectBytes        pages of live large objects
 * @param largeRequestedBytes     bytes asked for by live large objects
 * @param dedicatedObjects        live objects in their own mapping (larger than an arena)
 * @param dedicatedBytes          bytes mapped for them
 * @param totalAllocations        allocations since creation
 * @param totalFrees              frees since creation
 * @param allocationsFromCache    small allocations served by a thread cache without help
 * @param allocationsFromCentral  small allocations that refilled a cache from a central list's partial span
 * @param allocationsFromNewSpan  small allocations that needed a new span from the page heap
 * @param allocationsFromPageHeap large objects carved from free pages, by a page heap or from a page cache's run
 * @param allocationsFromPageCache the part of {@code allocationsFromPageHeap} cut from a thread's page cache, without a lock
 * @param arenaReservations       arenas mapped (each one a 64 MiB mmap)
 * @param threadCaches            thread caches in use (per platform thread, plus those shared by virtual threads)
 * @param doubleFreesDetected     double frees caught after the fact (default mode) and skipped
 * @param sizeClasses             per size class, only classes that have been used
 * @param stack                   the thread stacks behind {@link SpanHeap#newConfinedArena()}
 * @param releaseFailures         releases of free pages to the OS (madvise) that the kernel refused
 *                                since creation; their pages stayed free and held, to be tried again
 *                                (the first refusal is also logged, see {@code docs/memory.md})
 * @param machine                 what the heap got from the machine: address range, limit source, huge pages
 */
public record HeapStats(
        long liveObjects,
        long allocatedBytes,
        long reservedBytes,
        int arenas,
        long heldBytes,
        long maxHeapBytes,
        long spanBytes,
        long freePageBytes,
        long retainedFreeBytes,
        long releasedBytes,
        long releasedBytesTotal,
        long residentEstimateBytes,
        long cachedBytes,
        long pageCacheBytes,
        long freeSlotBytes,
        long largestFreeRunBytes,
        long freeRuns,
        long smallSpans,
        long largeObjects,
        long largeObjectBytes,
        long largeRequestedBytes,
        long dedicatedObjects,
        long dedicatedBytes,
        long totalAllocations,
        long totalFrees,
        long allocationsFromCache,
        long allocationsFromCentral,
        long allocationsFromNewSpan,
        long allocationsFromPageHeap,
        long allocationsFromPageCache,
        long arenaReservations,
        long threadCaches,
        long doubleFreesDetected,
        List<SizeClassStats> sizeClasses,
        StackStats stack,
        long releaseFailures,
        MachineStats machine) {

    public HeapStats {
        sizeClasses = List.copyOf(sizeClasses);
    }

    /**
     * Internal fragmentation of small objects: the share of slot bytes in small spans that is not
     * behind a live object (free slots, cached slots and the span tails), from 0 to 1.
     */
    public double smallFragmentation() {
        long spanned = 0;
        long live = 0;
        for (SizeClassStats c : sizeClasses) {
            spanned += c.spanBytes();
            live += c.liveBytes();
        }
        return spanned == 0 ? 0 : 1.0 - (double) live / spanned;
    }

    /**
     * Internal fragmentation of large objects: the share of their whole pages that callers did not
     * ask for, from 0 to 1 (requested sizes are tracked for large objects, not for small ones).
     */
    public double largeFragmentation() {
        return largeObjectBytes == 0 ? 0 : 1.0 - (double) largeRequestedBytes / largeObjectBytes;
    }

    /**
     * External fragmentation of free pages: {@code 1 - largestFreeRun / freePages}, 0 when all free
     * pages form one run (or there are none), near 1 when they are scattered in small runs.
     */
    public double externalFragmentation() {
        return freePageBytes == 0 ? 0 : 1.0 - (double) largestFreeRunBytes / freePageBytes;
    }

    /**
     * Fills a {@link HeapStats} by name: {@link HeapStatsCollector} sets each figure where it
     * reads it, instead of passing every figure by position. Package-private.
     */
    static final class Builder {
        private long liveObjects;
        private long allocatedBytes;
        private long reservedBytes;
        private int arenas;
        private long heldBytes;
        private long maxHeapBytes;
        private long spanBytes;
        private long freePageBytes;
        private long retainedFreeBytes;
        private long releasedBytes;
        private long releasedBytesTotal;
        private long residentEstimateBytes;
        private long cachedBytes;
        private long pageCacheBytes;
        private long freeSlotBytes;
        private long largestFreeRunBytes;
        private long freeRuns;
        private long smallSpans;
        private long largeObjects;
        private long largeObjectBytes;
        private long largeRequestedBytes;
        private long dedicatedObjects;
        private long dedicatedBytes;
        private long totalAllocations;
        private long totalFrees;
        private long allocationsFromCache;
        private long allocationsFromCentral;
        private long allocationsFromNewSpan;
        private long allocationsFromPageHeap;
        private long allocationsFromPageCache;
        private long arenaReservations;
        private long threadCaches;
        private long doubleFreesDetected;
        private List<SizeClassStats> sizeClasses = List.of();
        private StackStats stack;
        private long releaseFailures;
        private MachineStats machine;

        Builder liveObjects(long value) {
            this.liveObjects = value;
            return this;
        }

        Builder allocatedBytes(long value) {
            this.allocatedBytes = value;
            return this;
        }

        Builder reservedBytes(long value) {
            this.reservedBytes = value;
            return this;
        }

        Builder arenas(int value) {
            this.arenas = value;
            return this;
        }

        Builder heldBytes(long value) {
            this.heldBytes = value;
            return this;
        }

        Builder maxHeapBytes(long value) {
            this.maxHeapBytes = value;
            return this;
        }

        Builder spanBytes(long value) {
            this.spanBytes = value;
            return this;
        }

        Builder freePageBytes(long value) {
            this.freePageBytes = value;
            return this;
        }

        Builder retainedFreeBytes(long value) {
            this.retainedFreeBytes = value;
            return this;
        }

        Builder releasedBytes(long value) {
            this.releasedBytes = value;
            return this;
        }

        Builder releasedBytesTotal(long value) {
            this.releasedBytesTotal = value;
            return this;
        }

        Builder residentEstimateBytes(long value) {
            this.residentEstimateBytes = value;
            return this;
        }

        Builder pageCacheBytes(long value) {
            this.pageCacheBytes = value;
            return this;
        }

        Builder cachedBytes(long value) {
            this.cachedBytes = value;
            return this;
        }

        Builder freeSlotBytes(long value) {
            this.freeSlotBytes = value;
            return this;
        }

        Builder largestFreeRunBytes(long value) {
            this.largestFreeRunBytes = value;
            return this;
        }

        Builder freeRuns(long value) {
            this.freeRuns = value;
            return this;
        }

        Builder smallSpans(long value) {
            this.smallSpans = value;
            return this;
        }

        Builder largeObjects(long value) {
            this.largeObjects = value;
            return this;
        }

        Builder largeObjectBytes(long value) {
            this.largeObjectBytes = value;
            return this;
        }

        Builder largeRequestedBytes(long value) {
            this.largeRequestedBytes = value;
            return this;
        }

        Builder dedicatedObjects(long value) {
            this.dedicatedObjects = value;
            return this;
        }

        Builder dedicatedBytes(long value) {
            this.dedicatedBytes = value;
            return this;
        }

        Builder totalAllocations(long value) {
            this.totalAllocations = value;
            return this;
        }

        Builder totalFrees(long value) {
            this.totalFrees = value;
            return this;
        }

        Builder allocationsFromCache(long value) {
            this.allocationsFromCache = value;
            return this;
        }

        Builder allocationsFromCentral(long value) {
            this.allocationsFromCentral = value;
            return this;
        }

        Builder allocationsFromNewSpan(long value) {
            this.allocationsFromNewSpan = value;
            return this;
        }

        Builder allocationsFromPageHeap(long value) {
            this.allocationsFromPageHeap = value;
            return this;
        }

        Builder allocationsFromPageCache(long value) {
            this.allocationsFromPageCache = value;
            return this;
        }

        Builder arenaReservations(long value) {
            this.arenaReservations = value;
            return this;
        }

        Builder threadCaches(long value) {
            this.threadCaches = value;
            return this;
        }

        Builder doubleFreesDetected(long value) {
            this.doubleFreesDetected = value;
            return this;
        }

        Builder sizeClasses(List<SizeClassStats> value) {
            this.sizeClasses = value;
            return this;
        }

        Builder stack(StackStats value) {
            this.stack = value;
            return this;
        }

        Builder releaseFailures(long value) {
            this.releaseFailures = value;
            return this;
        }

        Builder machine(MachineStats value) {
            this.machine = value;
            return this;
        }

        HeapStats build() {
            return new HeapStats(liveObjects, allocatedBytes, reservedBytes, arenas, heldBytes, maxHeapBytes, spanBytes, freePageBytes, retainedFreeBytes, releasedBytes, releasedBytesTotal, residentEstimateBytes, cachedBytes, pageCacheBytes, freeSlotBytes, largestFreeRunBytes, freeRuns, smallSpans, largeObjects, largeObjectBytes, largeRequestedBytes, dedicatedObjects, dedicatedBytes, totalAllocations, totalFrees, allocationsFromCache, allocationsFromCentral, allocationsFromNewSpan, allocationsFromPageHeap, allocationsFromPageCache, arenaReservations, threadCaches, doubleFreesDetected, sizeClasses, stack, releaseFailures, machine);
        }
    }
}
