package dev.spanheap;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The sampled heap profile behind {@link SpanHeap#profile()}: the allocation sites of sampled
 * blocks and what they estimate; Go's {@code mprof.go} buckets with its {@code MemProfileRate}
 * sampling. Exists only when profiling is on ({@link SpanHeapConfig#profileSampleBytes()} above 0).
 *
 * <p><b>Which allocations are sampled.</b> Sample points fall on the bytes handed out as a Poisson
 * process with one point per {@link #sampleBytes} on average (exponential gaps, as Go and TCMalloc
 * draw them); a block is sampled when at least one point falls in it, which happens with chance
 * {@code p = 1 - exp(-blockBytes / sampleBytes)}, independently of every other block. The block's
 * bytes are its slot for a small object, its pages for a large one, its mapping for a dedicated
 * one. Thread caches count the process down in pops per class ({@link ThreadCache#popSlow}); the
 * paths that are slow anyway (large objects, dedicated mappings, checked mode) draw the
 * independent chance per allocation, which samples exactly as a byte countdown would and shares
 * no counter between threads.
 *
 * <p><b>Estimates.</b> A sample stands for {@code 1 / p} objects and {@code requestedBytes / p}
 * bytes: each block contributes its true count and size times {@code p / p} on average, so sums
 * over sites are unbiased. A site's live figures lose a sample's share when its block is freed;
 * its allocated figures keep growing.
 *
 * <p><b>Frees.</b> A small span holding a live sample has {@link PageHeap#SAMPLED_SPAN_BIT} on
 * its page-table entries, so every free in it misses the fast path; the slow path asks
 * {@link #drop} for spans whose {@link Span#liveSamples} is above 0. Large objects and dedicated
 * mappings are always freed on the slow path. A sample is dropped before its block is freed, so
 * that a block allocated at the same address meanwhile keeps its own sample.
 *
 * <p>Synchronization: every mutable field, and {@link Span#liveSamples}, are guarded by
 * {@link #lock}. Lock order: the profiler lock, then a page heap lock ({@link PageHeap#markSampled});
 * the profiler lock is never taken holding a page heap or central-list lock. Stacks are walked
 * before the lock is taken.
 */
final class HeapProfiler {

    /** Frames kept per sample, innermost first (deeper stacks are cut there). */
    static final int MAX_STACK_DEPTH = 32;
    /** The classes whose frames lead from the caller into the sampling; a sample's stack starts below them. */
    private static final Set<String> ALLOCATOR_FRAMES = Set.of(SpanHeap.class.getName(), SlotAllocation.class.getName(),
            LargeObjects.class.getName(), HeapProfiler.class.getName());
    private static final StackWalker WALKER = StackWalker.getInstance();

    /** Mean bytes between two sample points. */
    final long sampleBytes;
    private final AddressRange range;
    /** {@code SMALL_CHANCE[c]}: the chance that one slot of class c is sampled. */
    private final double[] smallChance = new double[SizeClasses.CLASS_COUNT];

    private final ReentrantLock lock = new ReentrantLock();
    /** Sites by stack. Guarded by the lock. */
    private final Map<List<StackTraceElement>, Site> sites = new HashMap<>();
    /** Live samples by block address. Guarded by the lock. */
    private final Map<Long, Sample> live = new HashMap<>();
    /** Samples taken since the heap was created. Guarded by the lock. */
    private long samplesTaken;

    /** One site's estimates, summed in floating point and rounded when a profile is taken. Guarded by the lock. */
    private static final class Site {
        final List<StackTraceElement> stack;
        int liveSamples;
        double liveObjects;
        double liveBytes;
        double allocatedObjects;
        double allocatedBytes;

        Site(List<StackTraceElement> stack) {
            this.stack = stack;
        }

        ProfileSite toRecord() {
            // With no live sample left the live sums are 0, whatever rounding the additions left.
            return liveSamples == 0
                    ? new ProfileSite(stack, 0, 0, Math.round(allocatedObjects), Math.round(allocatedBytes))
                    : new ProfileSite(stack, Math.round(liveObjects), Math.round(liveBytes),
                            Math.round(allocatedObjects), Math.round(allocatedBytes));
        }
    }

    /** A live sample: its site, the shares it added there, and the span it is in (null for a dedicated mapping). */
    private record Sample(Site site, double objects, double bytes, Span span) {
    }

    HeapProfiler(long sampleBytes, AddressRange range) {
        if (sampleBytes <= 0) {
            throw new IllegalArgumentException("a heap profiler needs a positive sampleBytes, was " + sampleBytes);
        }
        this.sampleBytes = sampleBytes;
        this.range = range;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            smallChance[c] = sampleChance(SizeClasses.SLOT_SIZE[c], sampleBytes);
        }
    }

    /** The chance that a block of {@code blockBytes} holds at least one of the points, spaced Exp(mean {@code sampleBytes}). */
    static double sampleChance(long blockBytes, long sampleBytes) {
        return -Math.expm1(-(double) blockBytes / sampleBytes);
    }

    /** One exponential gap between sample points, in bytes, of mean {@code sampleBytes}. */
    static double exponentialGap(long sampleBytes) {
        // 1 - nextDouble() lies in (0, 1], so the logarithm is finite.
        return -Math.log(1.0 - ThreadLocalRandom.current().nextDouble()) * sampleBytes;
    }

    // ---------------------------------------------------------------- sampling

    /** Whether an allocation of a class-{@code c} slot that no thread cache counted down (checked mode) is sampled. */
    boolean drawSmall(int sizeClass) {
        return ThreadLocalRandom.current().nextDouble() < smallChance[sizeClass];
    }

    /** Whether an allocation of {@code blockBytes} on a path without a countdown (large, dedicated) is sampled. */
    boolean drawBlock(long blockBytes) {
        return ThreadLocalRandom.current().nextDouble() < sampleChance(blockBytes, sampleBytes);
    }

    /** Records a sample of the slot at {@code address} (class {@code sizeClass}, {@code requestedBytes} asked for), just allocated by the caller. */
    void sampleSlot(long address, long requestedBytes, int sizeClass) {
        List<StackTraceElement> stack = callerStack();
        Span span = range.spanAt(address);
        lock.lock();
        try {
            record(address, stack, requestedBytes, SizeClasses.SLOT_SIZE[sizeClass], sizeClass, span);
            if (span.liveSamples++ == 0) {
                range.arenaAt(address).owner.markSampled(span, true);
            }
        } finally {
            lock.unlock();
        }
        HeapEvents.allocationSampled(range.heapName, requestedBytes, SizeClasses.SLOT_SIZE[sizeClass], sizeClass, address);
    }

    /** Records a sample of the large object {@code span}, just allocated by the caller. */
    void sampleLarge(Span span, long requestedBytes) {
        List<StackTraceElement> stack = callerStack();
        lock.lock();
        try {
            record(span.start, stack, requestedBytes, span.bytes(), 0, span);
            span.liveSamples++;
        } finally {
            lock.unlock();
        }
        HeapEvents.allocationSampled(range.heapName, requestedBytes, span.bytes(), 0, span.start);
    }

    /** Records a sample of the dedicated mapping at {@code address} ({@code mappedBytes}), just mapped by the caller. */
    void sampleDedicated(long address, long requestedBytes, long mappedBytes) {
        List<StackTraceElement> stack = callerStack();
        lock.lock();
        try {
            record(address, stack, requestedBytes, mappedBytes, 0, null);
        } finally {
            lock.unlock();
        }
        HeapEvents.allocationSampled(range.heapName, requestedBytes, mappedBytes, 0, address);
    }

    /**
     * Adds a sample of the block at {@code address} ({@code blockBytes} handed out for
     * {@code requestedBytes}; {@code sizeClass} 0 for a large object or a mapping, whose
     * {@code span} is then the large span or null) to its site. Holding the lock.
     */
    private void record(long address, List<StackTraceElement> stack, long requestedBytes, long blockBytes, int sizeClass,
            Span span) {
        assert lock.isHeldByCurrentThread();
        double chance = sizeClass != 0 ? smallChance[sizeClass] : sampleChance(blockBytes, sampleBytes);
        Site site = sites.computeIfAbsent(stack, Site::new);
        double objects = 1.0 / chance;
        double bytes = requestedBytes / chance;
        site.liveSamples++;
        site.liveObjects += objects;
        site.liveBytes += bytes;
        site.allocatedObjects += objects;
        site.allocatedBytes += bytes;
        samplesTaken++;
        live.put(address, new Sample(site, objects, bytes, span));
    }

    /** The stack of the allocation being sampled, innermost frame first, from the first frame outside the allocator. */
    private static List<StackTraceElement> callerStack() {
        return WALKER.walk(frames -> frames
                .dropWhile(frame -> ALLOCATOR_FRAMES.contains(frame.getClassName()))
                .limit(MAX_STACK_DEPTH)
                .map(StackWalker.StackFrame::toStackTraceElement)
                .toList());
    }

    // ---------------------------------------------------------------- frees

    /**
     * Drops the sample of the block at {@code address} in {@code span} (whose racy sample count
     * was above 0), if it is one, before the caller frees the block; clears the span's sampled bit
     * when its last sample goes. Nothing happens for another block of a sampled span.
     */
    void drop(Span span, long address) {
        lock.lock();
        try {
            Sample sample = live.get(address);
            if (sample == null || sample.span != span) {
                return;
            }
            forget(address, sample);
            if (--span.liveSamples == 0 && !span.isLarge()) {
                range.arenaAt(address).owner.markSampled(span, false);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Drops the sample of the dedicated mapping at {@code address}, if it is one, before the caller unmaps it. */
    void dropDedicated(long address) {
        lock.lock();
        try {
            Sample sample = live.get(address);
            if (sample != null && sample.span == null) {
                forget(address, sample);
            }
        } finally {
            lock.unlock();
        }
    }

    private void forget(long address, Sample sample) {
        live.remove(address);
        Site site = sample.site;
        site.liveSamples--;
        site.liveObjects -= sample.objects;
        site.liveBytes -= sample.bytes;
    }

    // ---------------------------------------------------------------- reading

    /** The profile now: every site, most estimated live bytes first. */
    HeapProfile snapshot() {
        List<ProfileSite> records = new ArrayList<>();
        long taken;
        lock.lock();
        try {
            for (Site site : sites.values()) {
                records.add(site.toRecord());
            }
            taken = samplesTaken;
        } finally {
            lock.unlock();
        }
        records.sort(Comparator.comparingLong(ProfileSite::liveBytes).reversed()
                .thenComparing(Comparator.comparingLong(ProfileSite::allocatedBytes).reversed()));
        return new HeapProfile(sampleBytes, taken, records);
    }

    /** The addresses of the live samples in spans (small and large objects), for the heap's checks. */
    long[] sampledSpanBlocks() {
        lock.lock();
        try {
            return live.entrySet().stream().filter(e -> e.getValue().span != null).mapToLong(Map.Entry::getKey).toArray();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checks that every live sample's span is in use and counts exactly its samples, and that
     * each site's live sample count matches; returns the first problem, or null. Holding no other lock.
     */
    String verify() {
        lock.lock();
        try {
            Map<Span, Integer> perSpan = new HashMap<>();
            Map<Site, Integer> perSite = new HashMap<>();
            for (Map.Entry<Long, Sample> entry : live.entrySet()) {
                Sample sample = entry.getValue();
                perSite.merge(sample.site, 1, Integer::sum);
                if (sample.span == null) {
                    continue;
                }
                Span span = sample.span;
                long address = entry.getKey();
                if (!span.inUse || address < span.start || address >= span.end()) {
                    return "sample at " + Errors.hex(address) + " points to span " + span
                            + (span.inUse ? " which does not hold it" : " which is freed");
                }
                perSpan.merge(span, 1, Integer::sum);
            }
            for (Map.Entry<Span, Integer> entry : perSpan.entrySet()) {
                if (entry.getKey().liveSamples != entry.getValue()) {
                    return "span " + entry.getKey() + " counts " + entry.getKey().liveSamples + " live samples, the profile holds "
                            + entry.getValue();
                }
            }
            for (Site site : sites.values()) {
                int counted = perSite.getOrDefault(site, 0);
                if (site.liveSamples != counted) {
                    return "site " + (site.stack.isEmpty() ? "(no frames)" : site.stack.getFirst()) + " counts " + site.liveSamples + " live samples, the profile holds " + counted;
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }
}
