package dev.spanheap;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds a {@link HeapStats} from the snapshots each component reports of itself: the thread-cache
 * registry's counters, each class's central lists, each page heap, the dedicated mappings, the
 * address range and the thread stacks; Go's {@code readmemstats_m}. It reads no component's
 * fields, only the small records they hand up.
 *
 * <p>Exact at rest: the registry lock is held throughout, so no cache is reclaimed or flushed by
 * another thread between reading the caches and reading the central lists; other live threads'
 * cache counters are read racily.
 */
final class HeapStatsCollector {

    private HeapStatsCollector() {
    }

    static HeapStats collect(SpanHeap heap) {
        ThreadCacheRegistry registry = heap.cacheRegistry();
        return registry.withEveryCache(all -> collect(heap, registry.snapshotLocked(all)));
    }

    private static HeapStats collect(SpanHeap heap, ThreadCacheRegistry.Snapshot caches) {
        CentralLists centrals = heap.centralLists();
        List<SizeClassStats> classes = new ArrayList<>();
        long liveSmall = 0, liveSmallBytes = 0, cachedBytes = 0, freeSlotBytes = 0, smallAllocations = 0, smallFrees = 0;
        long fromCentral = 0, fromNewSpan = 0, doubleFrees = 0;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            CentralLists.ClassSnapshot central = centrals.snapshot(c);
            long cached = caches.cachedSlots()[c];
            long live = central.allocatedSlots() - cached - central.quarantinedSlots();
            long classFrees = caches.frees()[c] + central.directFrees();
            long classAllocations = caches.pops()[c] + central.directAllocations();
            int slotSize = SizeClasses.SLOT_SIZE[c];
            long freeSlots = central.spans() * SizeClasses.SLOTS_PER_SPAN[c] - central.allocatedSlots();
            if (central.spans() > 0 || classAllocations > 0) {
                classes.add(new SizeClassStats(c, slotSize, SizeClasses.SPAN_PAGES[c], central.spans(), live, cached,
                        freeSlots, classAllocations, classFrees));
            }
            liveSmall += live;
            liveSmallBytes += live * slotSize;
            cachedBytes += cached * slotSize;
            freeSlotBytes += freeSlots * slotSize;
            smallAllocations += classAllocations;
            smallFrees += classFrees;
            fromCentral += central.refillsFromPartial();
            fromNewSpan += central.refillsFromNewSpan();
            doubleFrees += central.doubleFreesDetected();
        }
        long arenas = 0, pagesInSpans = 0, freePages = 0, dirtyFreePages = 0, smallSpans = 0, largeSpans = 0;
        long largeBytes = 0, largeRequested = 0, largeAllocations = 0, largeFrees = 0, released = 0;
        long longestRun = 0, freeRuns = 0, releaseFailures = 0;
        // Spans cut by page caches: counted by the caches, less those freed under a page heap's lock.
        PageCache.Counts pageCaches = caches.pageCaches();
        long carvedSpans = pageCaches.liveSpans(), carvedBytes = pageCaches.liveBytes(), carvedRequested = pageCaches.liveRequestedBytes();
        long carvedFrees = pageCaches.frees();
        for (PageHeap pageHeap : heap.pageHeaps()) {
            PageHeap.Snapshot p = pageHeap.snapshot();
            arenas += p.arenasOwned();
            pagesInSpans += p.pagesInSpans();
            freePages += p.freePages();
            dirtyFreePages += p.dirtyFreePages();
            smallSpans += p.smallSpans();
            largeSpans += p.largeSpans();
            largeBytes += p.largeObjectBytes();
            largeRequested += p.largeRequestedBytes();
            largeAllocations += p.largeAllocations();
            largeFrees += p.largeFrees();
            released += p.releasedBytesTotal();
            longestRun = Math.max(longestRun, p.longestFreeRunPages());
            freeRuns += p.freeRuns();
            releaseFailures += p.releaseFailures();
            carvedSpans -= p.carvedFrees();
            carvedBytes -= p.carvedFreedBytes();
            carvedRequested -= p.carvedFreedRequestedBytes();
            carvedFrees += p.carvedFrees();
        }
        long runBytes = pageCaches.runBytes();
        DedicatedMappings.Snapshot dedicated = heap.dedicatedMappings().snapshot();
        AddressRange range = heap.addressRange();
        long freePageBytes = freePages << SizeClasses.PAGE_SHIFT;
        long retained = dirtyFreePages << SizeClasses.PAGE_SHIFT;
        long spanBytes = (pagesInSpans << SizeClasses.PAGE_SHIFT) + carvedBytes;
        long held = spanBytes + retained + runBytes + dedicated.mappedBytes();
        largeSpans += carvedSpans;
        largeBytes += carvedBytes;
        largeRequested += carvedRequested;
        return new HeapStats.Builder()
                .liveObjects(liveSmall + largeSpans + dedicated.objects())
                .allocatedBytes(liveSmallBytes + largeBytes + dedicated.mappedBytes())
                .reservedBytes((arenas << HeapArena.SHIFT) + dedicated.mappedBytes())
                .arenas((int) arenas)
                .heldBytes(held)
                .maxHeapBytes(range.maxHeapBytes)
                .spanBytes(spanBytes)
                .freePageBytes(freePageBytes)
                .retainedFreeBytes(retained)
                .releasedBytes(freePageBytes - retained)
                .releasedBytesTotal(released)
                .residentEstimateBytes(held)
                .cachedBytes(cachedBytes)
                .pageCacheBytes(runBytes)
                .freeSlotBytes(freeSlotBytes)
                .largestFreeRunBytes(longestRun << SizeClasses.PAGE_SHIFT)
                .freeRuns(freeRuns)
                .smallSpans(smallSpans)
                .largeObjects(largeSpans)
                .largeObjectBytes(largeBytes)
                .largeRequestedBytes(largeRequested)
                .dedicatedObjects(dedicated.objects())
                .dedicatedBytes(dedicated.mappedBytes())
                .totalAllocations(smallAllocations + largeAllocations + pageCaches.allocations() + dedicated.allocations())
                .totalFrees(smallFrees + largeFrees + carvedFrees + dedicated.frees())
                .allocationsFromCache(smallAllocations - fromCentral - fromNewSpan)
                .allocationsFromCentral(fromCentral)
                .allocationsFromNewSpan(fromNewSpan)
                .allocationsFromPageHeap(largeAllocations + pageCaches.allocations())
                .allocationsFromPageCache(pageCaches.allocations())
                .arenaReservations(range.arenaReservations())
                .threadCaches(caches.caches())
                .doubleFreesDetected(doubleFrees)
                .sizeClasses(classes)
                .stack(heap.threadStacks().stats())
                .releaseFailures(releaseFailures)
                .machine(machineStats(heap, false))
                .build();
    }

    /** The {@link MachineStats} of {@code heap}; {@code fresh} reads mincore and smaps now instead of within the last second. */
    static MachineStats machineStats(SpanHeap heap, boolean fresh) {
        AddressRange range = heap.addressRange();
        SpanHeapConfig config = heap.config();
        CgroupMemoryLimit container = config.containerLimit();
        ResidentGauge.Reading resident = heap.residentGauge().read(fresh);
        return new MachineStats(range.requestedAddressSpaceBytes, range.addressSpaceBytes, config.maxHeapBytesSource(),
                container == null ? Long.MAX_VALUE : container.bytes(), container == null ? "" : container.file(),
                TransparentHugePages.mode().label, range.hugePages, resident.hugePageBytes(), resident.residentBytes());
    }
}
