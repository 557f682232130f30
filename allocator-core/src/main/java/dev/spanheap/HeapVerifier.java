package dev.spanheap;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks every invariant of a heap, component by component, and returns the first one broken;
 * in the spirit of mimalloc's {@code mi_heap_is_valid}. Exact only while no other thread uses
 * the heap (the tests call it after every step).
 *
 * <p>Checked: each page heap's equations ({@link PageHeap#verify}) and the dedicated mappings'
 * ({@link DedicatedMappings#verify}); each central list's partial list; holding every lock, each
 * span's equations ({@link Span#verify}), and per shard and class that the slots marked allocated
 * in spans equal the central list's count; every cached slot lies at a slot start of a span of its
 * class, is marked allocated, and is cached once; in checked mode, every poisoned free slot still
 * holds its poison; the range's held bytes equal what the page heaps and mappings hold. With the
 * heap profile on: its own equations ({@link HeapProfiler#verify}); every sampled block in a span
 * is live there (an allocated slot, not cached) and the spans' sample counts add up to the
 * profile's; page-table entries carry the sampled-span bit exactly when their span counts a
 * sample ({@link PageHeap#verify}).
 */
final class HeapVerifier {

    private HeapVerifier() {
    }

    static String verify(SpanHeap heap) {
        for (PageHeap pageHeap : heap.pageHeaps()) {
            String problem = pageHeap.verify();
            if (problem != null) {
                return problem;
            }
        }
        String problem = heap.dedicatedMappings().verify();
        if (problem != null) {
            return problem;
        }
        problem = heap.centralLists().verify();
        if (problem != null) {
            return problem;
        }
        // The profiler's lock comes before the central and page heap locks: read it first.
        HeapProfiler profiler = heap.profiler();
        long[] sampled = new long[0];
        if (profiler != null) {
            problem = profiler.verify();
            if (problem != null) {
                return problem;
            }
            sampled = profiler.sampledSpanBlocks();
        }
        long[] sampledBlocks = sampled;
        // The registry lock comes before the central locks.
        return heap.cacheRegistry().withEveryCache(
                all -> heap.centralLists().withEveryLock(() -> verifyLocked(heap, all, sampledBlocks)));
    }

    private static String verifyLocked(SpanHeap heap, List<ThreadCache> caches, long[] sampledBlocks) {
        CentralLists centrals = heap.centralLists();
        AddressRange range = heap.addressRange();
        PageHeap[] pageHeaps = heap.pageHeaps();
        long[][] slotsInSpans = new long[pageHeaps.length][SizeClasses.CLASS_COUNT];
        long[][] spanCount = new long[pageHeaps.length][SizeClasses.CLASS_COUNT];
        String[] problem = new String[1];
        long held = heap.dedicatedMappings().snapshot().mappedBytes();
        long[] spanSamples = new long[1];
        for (PageHeap pageHeap : pageHeaps) {
            held += pageHeap.heldBytesLocked();
            pageHeap.forEachSpan(span -> {
                spanSamples[0] += span.racyLiveSamples();
                if (problem[0] == null) {
                    problem[0] = verifySpan(heap, pageHeap, span, slotsInSpans, spanCount);
                }
            });
        }
        if (problem[0] != null) {
            return problem[0];
        }
        if (spanSamples[0] != sampledBlocks.length) {
            return "spans count " + spanSamples[0] + " live samples, the heap profile holds " + sampledBlocks.length + " in spans";
        }
        for (long address : sampledBlocks) {
            Span span = range.spanAt(address);
            boolean live = span != null && (span.isLarge() ? span.start == address && span.inUse
                    : span.slotOf(address) >= 0 && span.isAllocated(span.slotOf(address)));
            if (!live) {
                return "sampled block " + Errors.hex(address) + " is not a live block of a span (found " + span + ")";
            }
        }
        if (held != range.heldBytes()) {
            return "the range counts " + range.heldBytes() + " bytes held, page heaps and mappings hold " + held;
        }
        String pageCacheProblem = verifyPageCaches(heap, caches);
        if (pageCacheProblem != null) {
            return pageCacheProblem;
        }
        long[] allocatedPerClass = new long[SizeClasses.CLASS_COUNT];
        for (int shard = 0; shard < pageHeaps.length; shard++) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                CentralList.Snapshot list = centrals.of(shard, c).snapshot();
                if (slotsInSpans[shard][c] != list.allocatedSlots() || spanCount[shard][c] != list.spans()) {
                    return "shard " + shard + ", class " + c + ": spans hold " + slotsInSpans[shard][c] + " allocated slots in "
                            + spanCount[shard][c] + " spans, central list counts " + list.allocatedSlots() + " in " + list.spans();
                }
                allocatedPerClass[c] += list.allocatedSlots() - list.quarantinedSlots();
            }
        }
        return verifyCaches(range, caches, allocatedPerClass, sampledBlocks);
    }

    /**
     * The page caches against the page heaps: each cache's run well formed; the runs and cut spans
     * the page heaps' arenas hold are those the caches count (less the cut spans freed under a page
     * heap's lock); and the page heaps' lent pages are the cut spans' and runs' pages.
     */
    private static String verifyPageCaches(SpanHeap heap, List<ThreadCache> caches) {
        for (ThreadCache cache : caches) {
            String problem = cache.pageCache == null ? null : cache.pageCache.verify();
            if (problem != null) {
                return problem;
            }
        }
        PageCache.Counts counted = heap.cacheRegistry().snapshotLocked(caches).pageCaches();
        long carvedSpans = counted.liveSpans();
        long carvedBytes = counted.liveBytes();
        long foundSpans = 0, foundBytes = 0, foundRuns = 0, lentBytes = 0;
        for (PageHeap pageHeap : heap.pageHeaps()) {
            PageHeap.Snapshot snapshot = pageHeap.snapshot();
            carvedSpans -= snapshot.carvedFrees();
            carvedBytes -= snapshot.carvedFreedBytes();
            lentBytes += snapshot.lentPages() << SizeClasses.PAGE_SHIFT;
            PageHeap.LentCensus census = pageHeap.lentCensus();
            foundSpans += census.carvedSpans();
            foundBytes += census.carvedBytes();
            foundRuns += census.lentRuns();
        }
        if (foundSpans != carvedSpans || foundBytes != carvedBytes) {
            return "arenas hold " + foundSpans + " spans cut by page caches (" + foundBytes + " bytes), the counters say "
                    + carvedSpans + " (" + carvedBytes + " bytes)";
        }
        if (foundRuns != counted.runs()) {
            return "arenas hold " + foundRuns + " runs lent to page caches, the caches hold " + counted.runs();
        }
        if (lentBytes != foundBytes + counted.runBytes()) {
            return "page heaps lent " + lentBytes + " bytes, cut spans hold " + foundBytes + " and the caches' runs " + counted.runBytes();
        }
        return null;
    }

    private static String verifySpan(SpanHeap heap, PageHeap owner, Span span, long[][] slotsInSpans, long[][] spanCount) {
        String problem = span.verify();
        if (problem != null || span.isLarge()) {
            return problem;
        }
        slotsInSpans[span.listShard][span.sizeClass] += span.allocatedSlots;
        spanCount[span.listShard][span.sizeClass]++;
        if (!heap.isChecked()) {
            return null;
        }
        for (int slot = 0; slot < span.capacity; slot++) {
            if ((span.poisoned[slot >>> 6] & (1L << slot)) != 0) {
                long broken = heap.centralLists().of(span.listShard, span.sizeClass).firstUnpoisoned(span.slotAddress(slot), span.slotSize);
                if (broken >= 0) {
                    return "free slot " + Errors.hex(span.slotAddress(slot)) + " of " + span
                            + " was written after free (offset " + broken + ")";
                }
            }
        }
        return null;
    }

    private static String verifyCaches(AddressRange range, List<ThreadCache> caches, long[] allocatedPerClass, long[] sampledBlocks) {
        Set<Long> cached = new HashSet<>();
        long[] cachedPerClass = new long[SizeClasses.CLASS_COUNT];
        for (ThreadCache cache : caches) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                int n = cache.count(c);
                if (n < 0 || n > ThreadCache.CAPACITY[c]) {
                    return "a thread cache holds " + n + " slots of class " + c + " (capacity " + ThreadCache.CAPACITY[c] + ")";
                }
                cachedPerClass[c] += n;
                for (int i = 0; i < n; i++) {
                    long address = cache.slots[(c << ThreadCache.CLASS_SHIFT) + i] & ~1L;
                    Span span = range.spanAt(address);
                    int slot = span == null || span.sizeClass != c ? -1 : span.slotOf(address);
                    if (slot < 0) {
                        return "cached slot " + Errors.hex(address) + " of class " + c + " is not a slot of a class-" + c + " span";
                    }
                    if (!span.isAllocated(slot)) {
                        return "cached slot " + Errors.hex(address) + " is marked free in its span " + span;
                    }
                    if (!cached.add(address)) {
                        return "slot " + Errors.hex(address) + " is cached twice";
                    }
                }
            }
        }
        for (ThreadCache cache : caches) {
            int n = cache.remoteCount;
            if (n < 0 || n > ThreadCache.REMOTE_CAPACITY) {
                return "a thread cache's remote buffer holds " + n + " slots (capacity " + ThreadCache.REMOTE_CAPACITY + ")";
            }
            for (int i = 0; i < n; i++) {
                long address = cache.remote[i] & ~1L;
                Span span = range.spanAt(address);
                int slot = span == null || span.isLarge() ? -1 : span.slotOf(address);
                if (slot < 0 || !span.isAllocated(slot)) {
                    return "remote-buffered slot " + Errors.hex(address) + " is not an allocated slot of a span";
                }
                if (span.listShard == cache.shard) {
                    return "remote-buffered slot " + Errors.hex(address) + " belongs to the cache's own shard " + cache.shard;
                }
                if (!cached.add(address)) {
                    return "slot " + Errors.hex(address) + " is cached twice";
                }
                cachedPerClass[span.sizeClass]++;
            }
        }
        for (long address : sampledBlocks) {
            if (cached.contains(address)) {
                return "sampled block " + Errors.hex(address) + " is a free slot in a thread cache";
            }
        }
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            if (cachedPerClass[c] > allocatedPerClass[c]) {
                return "class " + c + ": " + cachedPerClass[c] + " cached slots but only " + allocatedPerClass[c] + " allocated";
            }
        }
        return null;
    }
}
