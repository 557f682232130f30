package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongUnaryOperator;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sampled heap profile ({@link SpanHeap#profile()}): its estimates against a workload whose
 * truth is known, the dropping of samples on every free path (own thread, other thread, virtual
 * thread, large, dedicated, checked mode), and that the statistics stay exact while it samples;
 * the profiler on its own: its interval's bound, its draws at chances of about 0 and exactly 1,
 * exact figures at chance 1, the order of its sites, its lock released after each sample and
 * drop, and its own checks against corrupted counts.
 */
class HeapProfileTest {

    private static SpanHeap heap(long sampleBytes) {
        return heap(sampleBytes, false);
    }

    private static SpanHeap heap(long sampleBytes, boolean checked) {
        return SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(16L << 26).scavengerEnabled(false)
                .checked(checked).profileSampleBytes(sampleBytes).build());
    }

    /**
     * Small sizes of the accuracy workload, of every order of magnitude up to about the interval
     * (a block much larger than the interval is sampled nearly surely, one sample whatever its
     * size, so samples come from the small ones); one allocation in 50 is a large object.
     */
    private static final int[] SMALL_SIZES = {24, 100, 256, 700, 1500, 3000};
    private static final int LARGE_SIZE = 50_000;

    private long allocateAtSiteA(SpanHeap heap, int size) {
        return heap.allocateAddress(size);
    }

    private long allocateAtSiteB(SpanHeap heap, int size) {
        return heap.allocateAddress(size);
    }

    private static boolean stackHas(ProfileSite site, String method) {
        return site.stack().stream().anyMatch(frame -> frame.getMethodName().equals(method)
                && frame.getClassName().equals(HeapProfileTest.class.getName()));
    }

    private static ProfileSite siteOf(HeapProfile profile, String method) {
        List<ProfileSite> found = profile.sites().stream().filter(site -> stackHas(site, method)).toList();
        assertEquals(1, found.size(), "one site for " + method + " in " + profile.sites());
        return found.getFirst();
    }

    /** The chance that one block of {@code size} requested bytes is sampled (slot, pages or mapping as the heap hands it out). */
    private static double chance(long size, long sampleBytes) {
        int c = SizeClasses.classOf(size);
        long block = c != 0 ? SizeClasses.SLOT_SIZE[c] : (size + SizeClasses.PAGE_MASK) & ~SizeClasses.PAGE_MASK;
        return HeapProfiler.sampleChance(block, sampleBytes);
    }

    /**
     * The estimate within {@code sigmas} standard deviations of the truth, the variance being
     * the sum over the blocks of {@code weight^2 (1 - p) / p} (each block is counted as
     * {@code weight / p} with chance p, else 0): a bound that a correct sampler passes but for
     * odds of about one in a million at 5 deviations, and a biased one fails.
     */
    private static void assertWithinSigmas(double expected, double actual, double variance, double sigmas, String what) {
        double sigma = Math.sqrt(variance);
        assertTrue(Math.abs(actual - expected) <= sigmas * sigma, what + ": estimated " + actual + ", truth " + expected
                + ", more than " + sigmas + " standard deviations (" + sigma + ") off");
    }

    private static void assertWithin(double expected, double actual, double fraction, String what) {
        assertTrue(Math.abs(actual - expected) <= fraction * expected,
                what + ": estimated " + actual + ", truth " + expected + " (more than " + fraction * 100 + "% off)");
    }

    /**
     * About 100 MB allocated at a 4 KiB sampling interval (over 10,000 samples), a quarter kept:
     * the live and allocated estimates of both sites come within 10% of the truth, and once
     * everything is freed nothing is estimated live.
     */
    @Test
    void estimatesMatchAKnownWorkloadAndFreesDropEverySample() {
        try (SpanHeap heap = heap(4096)) {
            SplittableRandom random = new SplittableRandom(12);
            List<Long> kept = new ArrayList<>();
            long[] liveBytes = new long[2];
            long[] liveObjects = new long[2];
            long[] allocatedBytes = new long[2];
            // The variances of the estimates (see assertWithinSigmas).
            double[] liveBytesVariance = new double[2];
            double[] liveObjectsVariance = new double[2];
            long total = 0;
            while (total < 100_000_000L) {
                int size = random.nextInt(50) == 0 ? LARGE_SIZE : SMALL_SIZES[random.nextInt(SMALL_SIZES.length)];
                int site = random.nextInt(2);
                long address = site == 0 ? allocateAtSiteA(heap, size) : allocateAtSiteB(heap, size);
                total += size;
                allocatedBytes[site] += size;
                if (random.nextInt(4) == 0) {
                    kept.add(address);
                    liveBytes[site] += size;
                    liveObjects[site]++;
                    double p = chance(size, 4096);
                    liveBytesVariance[site] += (double) size * size * (1 - p) / p;
                    liveObjectsVariance[site] += (1 - p) / p;
                } else {
                    heap.freeAddress(address);
                }
            }
            HeapProfile profile = heap.profile();
            assertEquals(4096, profile.sampleBytes());
            assertTrue(profile.samplesTaken() >= 10_000, profile.samplesTaken() + " samples");
            ProfileSite a = siteOf(profile, "allocateAtSiteA");
            ProfileSite b = siteOf(profile, "allocateAtSiteB");
            assertWithin(liveBytes[0], a.liveBytes(), 0.10, "site A live bytes");
            assertWithin(liveBytes[1], b.liveBytes(), 0.10, "site B live bytes");
            assertWithinSigmas(liveBytes[0], a.liveBytes(), liveBytesVariance[0], 5, "site A live bytes");
            assertWithinSigmas(liveBytes[1], b.liveBytes(), liveBytesVariance[1], 5, "site B live bytes");
            // A sample of a 24-byte object stands for ~128 of them: the object counts are noisier than the bytes.
            assertWithinSigmas(liveObjects[0], a.liveObjects(), liveObjectsVariance[0], 5, "site A live objects");
            assertWithinSigmas(liveObjects[1], b.liveObjects(), liveObjectsVariance[1], 5, "site B live objects");
            assertWithin(allocatedBytes[0], a.allocatedBytes(), 0.10, "site A allocated bytes");
            assertWithin(allocatedBytes[1], b.allocatedBytes(), 0.10, "site B allocated bytes");
            assertWithin(liveBytes[0] + liveBytes[1], profile.liveBytes(), 0.10, "heap live bytes");
            assertTrue(a.stack().getFirst().getMethodName().equals("allocateAtSiteA"),
                    "the stack starts at the caller of the heap: " + a.stack().getFirst());
            assertTrue(a.stack().size() <= HeapProfiler.MAX_STACK_DEPTH);
            heap.verifyInvariants();

            for (long address : kept) {
                heap.freeAddress(address);
            }
            HeapProfile after = heap.profile();
            assertEquals(0, after.liveBytes());
            assertEquals(0, after.liveObjects());
            assertEquals(0, heap.profiler().sampledSpanBlocks().length, "no live samples");
            assertWithin(allocatedBytes[0], siteOf(after, "allocateAtSiteA").allocatedBytes(), 0.10, "site A allocated bytes, all freed");
            heap.verifyInvariants();
        }
    }

    /**
     * Blocks allocated on one thread and freed on others (a platform thread with its own cache,
     * whose fast path would take the slot, and virtual threads on the shared caches): every
     * sample is dropped, and no sampled slot ever sat in a cache (the checks say so).
     */
    @Test
    void freesOnOtherThreadsDropTheirSamples() throws Exception {
        try (SpanHeap heap = heap(256)) {
            BlockingQueue<long[]> handOff = new ArrayBlockingQueue<>(4);
            Thread freer = Thread.ofPlatform().start(() -> {
                heap.freeAddress(heap.allocateAddress(64)); // its own cache, so that its fast path is live
                try {
                    for (long[] batch = handOff.take(); batch.length > 0; batch = handOff.take()) {
                        for (long address : batch) {
                            heap.freeAddress(address);
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            long before = heap.profile().samplesTaken();
            for (int round = 0; round < 20; round++) {
                long[] batch = new long[500];
                for (int i = 0; i < batch.length; i++) {
                    batch[i] = heap.allocateAddress(16 + (i % 40) * 16);
                }
                handOff.put(batch);
            }
            handOff.put(new long[0]);
            freer.join();
            assertTrue(heap.profile().samplesTaken() - before > 1000, "samples taken: " + heap.profile().samplesTaken());
            assertEquals(0, heap.profile().liveBytes());
            assertEquals(0, heap.profiler().sampledSpanBlocks().length);
            heap.verifyInvariants();

            long[] batch = new long[2000];
            for (int i = 0; i < batch.length; i++) {
                batch[i] = heap.allocateAddress(48 + (i % 7) * 1000);
            }
            assertTrue(heap.profile().liveObjects() > 0);
            Thread virtual = Thread.ofVirtual().start(() -> {
                for (long address : batch) {
                    heap.freeAddress(address);
                }
            });
            virtual.join();
            assertEquals(0, heap.profile().liveBytes());
            assertEquals(0, heap.profiler().sampledSpanBlocks().length);
            heap.verifyInvariants();
        }
    }

    /** 3000 live blocks of 100 bytes: sampled with an estimate near their bytes, and every sample dropped with the frees. */
    private static void assertSampledThenDropped(SpanHeap heap, long[] addresses) {
        HeapProfile profile = heap.profile();
        assertTrue(profile.samplesTaken() > 100, profile.samplesTaken() + " samples");
        assertWithin(300_000, profile.liveBytes(), 0.25, "live bytes of 3000 blocks of 100 bytes");
        heap.verifyInvariants();
        for (long address : addresses) {
            heap.freeAddress(address);
        }
        assertEquals(0, heap.profile().liveBytes());
        heap.verifyInvariants();
    }

    /** Virtual threads allocate from the shared caches, which count down like own caches. */
    @Test
    void virtualThreadsAllocationsAreSampled() throws Exception {
        try (SpanHeap heap = heap(512)) {
            long[] addresses = new long[3000];
            Thread virtual = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < addresses.length; i++) {
                    addresses[i] = heap.allocateAddress(100);
                }
            });
            virtual.join();
            assertSampledThenDropped(heap, addresses);
        }
    }

    /** Checked mode has no thread caches: its allocations are sampled on the way from the central list. */
    @Test
    void checkedModeAllocationsAreSampled() {
        try (SpanHeap heap = heap(512, true)) {
            long[] addresses = new long[3000];
            for (int i = 0; i < addresses.length; i++) {
                addresses[i] = heap.allocateAddress(100);
            }
            assertSampledThenDropped(heap, addresses);
        }
    }

    /**
     * Large objects and dedicated mappings (bigger than the interval, so sampled nearly always):
     * their samples are taken on the slow path, estimate about their size, and go with the free.
     */
    @Test
    void largeAndDedicatedBlocksAreSampledAndDropped() {
        try (SpanHeap heap = heap(1024)) {
            List<Long> large = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                large.add(heap.allocateAddress(100_000));
            }
            long dedicated = heap.allocateAddress(70L << 20);
            HeapProfile profile = heap.profile();
            assertEquals(51, profile.samplesTaken(), "a block of 100 KB at a 1 KiB interval is sampled with chance 1 - e^-98");
            assertWithin(50 * 100_000L + (70L << 20), profile.liveBytes(), 0.001, "live bytes");
            heap.verifyInvariants();
            heap.freeAddress(dedicated);
            for (long address : large) {
                heap.freeAddress(address);
            }
            assertEquals(0, heap.profile().liveBytes());
            assertEquals(0, heap.profiler().sampledSpanBlocks().length);
            heap.verifyInvariants();

            // Again, at the freed addresses: runs the page heap gives back, sampled the same.
            java.util.Set<Long> freed = new java.util.HashSet<>(large);
            large.clear();
            for (int i = 0; i < 50; i++) {
                large.add(heap.allocateAddress(100_000));
            }
            assertTrue(large.stream().anyMatch(freed::contains), "freed runs are handed out again");
            assertEquals(101, heap.profile().samplesTaken());
            assertWithin(50 * 100_000L, heap.profile().liveBytes(), 0.001, "live bytes");
            heap.verifyInvariants();
            for (long address : large) {
                heap.freeAddress(address);
            }
            assertEquals(0, heap.profile().liveBytes());
            heap.verifyInvariants();
        }
    }

    /**
     * Statistics with profiling on (an interval short enough to re-arm the countdown thousands of
     * times): allocation and free counts are exact at rest, per class and in total, and the
     * invariants hold with sampled spans live.
     */
    @Test
    void statisticsStayExactWhileSampling() {
        for (boolean checked : new boolean[] {false, true}) {
            try (SpanHeap heap = heap(128, checked)) {
                HeapStats start = heap.stats();
                long[] addresses = new long[20_000];
                for (int i = 0; i < addresses.length; i++) {
                    addresses[i] = heap.allocateAddress(8 + (i % 100) * 8);
                }
                assertTrue(heap.profile().samplesTaken() > 1000, "checked=" + checked);
                heap.verifyInvariants();
                HeapStats live = heap.stats();
                assertEquals(start.totalAllocations() + addresses.length, live.totalAllocations(), "checked=" + checked);
                assertEquals(start.liveObjects() + addresses.length, live.liveObjects(), "checked=" + checked);
                for (int i = 0; i < addresses.length; i += 2) {
                    heap.freeAddress(addresses[i]);
                }
                heap.verifyInvariants();
                for (int i = 1; i < addresses.length; i += 2) {
                    heap.freeAddress(addresses[i]);
                }
                HeapStats end = heap.stats();
                assertEquals(start.totalAllocations() + addresses.length, end.totalAllocations(), "checked=" + checked);
                assertEquals(start.totalFrees() + addresses.length, end.totalFrees(), "checked=" + checked);
                assertEquals(start.liveObjects(), end.liveObjects(), "checked=" + checked);
                long classAllocations = end.sizeClasses().stream().mapToLong(SizeClassStats::allocations).sum();
                long classFrees = end.sizeClasses().stream().mapToLong(SizeClassStats::frees).sum();
                assertEquals(classAllocations, classFrees, "checked=" + checked);
                assertEquals(0, heap.profile().liveBytes());
                heap.verifyInvariants();
            }
        }
    }

    /** Profiling off (the default): no sites, no samples, no profiler, and the report has no profile section. */
    @Test
    void profilingOffHasNoSites() {
        try (SpanHeap heap = heap(0)) {
            for (int i = 0; i < 10_000; i++) {
                heap.freeAddress(heap.allocateAddress(8 + (i % 4000)));
            }
            long kept = heap.allocateAddress(100);
            HeapProfile profile = heap.profile();
            assertEquals(0, profile.sampleBytes());
            assertEquals(0, profile.samplesTaken());
            assertTrue(profile.sites().isEmpty());
            assertTrue(heap.profiler() == null);
            assertTrue(!heap.report().contains("Heap profile"));
            heap.freeAddress(kept);
            heap.verifyInvariants();
        }
    }

    /** With profiling on, the report lists the top sites by live bytes with their frames. */
    @Test
    void reportListsTheTopSites() {
        try (SpanHeap heap = heap(1024)) {
            List<Long> kept = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                kept.add(allocateAtSiteA(heap, 1000));
            }
            String report = heap.report();
            assertTrue(report.contains("Heap profile (one sample per 1.00 KiB"), report);
            assertTrue(report.contains("top 1 site by live bytes"), report);
            assertTrue(report.contains("HeapProfileTest.allocateAtSiteA"), report);
            for (long address : kept) {
                heap.freeAddress(address);
            }
            assertTrue(heap.report().contains("(no live samples)"));
        }
    }

    /** The {@code spanheap.profileSampleBytes} property's values: sizes with suffixes, 0 for off, and a clear error otherwise. */
    @Test
    void samplePropertyParses() {
        assertEquals(512 << 10, SharedHeap.profileSampleBytesFrom("512k"));
        assertEquals(4096, SharedHeap.profileSampleBytesFrom(" 4096 "));
        assertEquals(0, SharedHeap.profileSampleBytesFrom("0"));
        assertEquals(SpanHeapConfig.DEFAULT_PROFILE_SAMPLE_BYTES, SharedHeap.profileSampleBytesFrom(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SharedHeap.profileSampleBytesFrom("lots"));
        assertTrue(e.getMessage().contains("spanheap.profileSampleBytes") && e.getMessage().contains("lots"), e.getMessage());
        assertEquals(8192, SharedHeap.configFrom(name -> name.equals(SharedHeap.PROFILE_SAMPLE_BYTES) ? "8k" : null)
                .profileSampleBytes());
    }

    // ---------------------------------------------------------------- the profiler on its own

    @Test
    void aProfilerNeedsAPositiveInterval() {
        assertThrows(IllegalArgumentException.class, () -> new HeapProfiler(0, null));
        assertThrows(IllegalArgumentException.class, () -> new HeapProfiler(-1, null));
        assertEquals(1, new HeapProfiler(1, null).sampleBytes);
    }

    /**
     * The draws of the paths without a countdown at the two extremes: at the longest interval a
     * slot or a page is sampled with chance below 1e-18, so 100,000 draws take none; at one byte a
     * 64-byte slot or a page is sampled with chance 1 - e^-64 or less than an ulp from it, which
     * is exactly 1.0 in a double, so every draw takes one.
     */
    @Test
    void drawsAtChancesOfAlmostZeroAndExactlyOne() {
        int c = SizeClasses.classOf(64);
        HeapProfiler rare = new HeapProfiler(Long.MAX_VALUE, null);
        HeapProfiler certain = new HeapProfiler(1, null);
        assertEquals(1.0, HeapProfiler.sampleChance(SizeClasses.SLOT_SIZE[c], 1));
        assertEquals(1.0, HeapProfiler.sampleChance(SizeClasses.PAGE_SIZE, 1));
        int rareDraws = 0;
        int certainDraws = 0;
        for (int i = 0; i < 100_000; i++) {
            rareDraws += (rare.drawSmall(c) ? 1 : 0) + (rare.drawBlock(SizeClasses.PAGE_SIZE) ? 1 : 0);
            certainDraws += (certain.drawSmall(c) ? 1 : 0) + (certain.drawBlock(SizeClasses.PAGE_SIZE) ? 1 : 0);
        }
        assertEquals(0, rareDraws);
        assertEquals(200_000, certainDraws);
    }

    /** {@link SpanHeap#profile()} on another thread, which must get the profiler's lock within seconds. */
    private static HeapProfile profileOnAnotherThread(SpanHeap heap) throws Exception {
        CompletableFuture<HeapProfile> profile = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> profile.complete(heap.profile()));
        try {
            return profile.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the profiler's lock is still held", e);
        }
    }

    /**
     * At a one-byte interval a large object and a dedicated mapping are sampled with chance 1.0
     * exactly, so each sample stands for one object of its requested bytes: the live and allocated
     * figures are exact, the free takes the live ones back to 0 and leaves the allocated ones, and
     * another thread can read the profile after each step (the lock is released).
     */
    @Test
    void largeAndDedicatedSamplesAtChanceOneAreExact() throws Exception {
        try (SpanHeap heap = heap(1)) {
            long large = allocateAtSiteA(heap, 100_000);
            HeapProfile profile = profileOnAnotherThread(heap);
            assertEquals(1, profile.samplesTaken());
            assertEquals(new ProfileSite(siteOf(profile, "allocateAtSiteA").stack(), 1, 100_000, 1, 100_000),
                    siteOf(profile, "allocateAtSiteA"));

            long dedicated = allocateAtSiteB(heap, 70 << 20);
            assertEquals(1.0, HeapProfiler.sampleChance(heap.dedicatedMappings().at(dedicated).mappedBytes(), 1));
            profile = profileOnAnotherThread(heap);
            assertEquals(2, profile.samplesTaken());
            ProfileSite b = siteOf(profile, "allocateAtSiteB");
            assertEquals(new ProfileSite(b.stack(), 1, 70L << 20, 1, 70L << 20), b);
            assertEquals(100_000 + (70L << 20), profile.liveBytes());
            heap.verifyInvariants();

            heap.freeAddress(dedicated);
            profile = profileOnAnotherThread(heap);
            assertEquals(new ProfileSite(b.stack(), 0, 0, 1, 70L << 20), siteOf(profile, "allocateAtSiteB"));
            heap.freeAddress(large);
            profile = profileOnAnotherThread(heap);
            assertEquals(new ProfileSite(siteOf(profile, "allocateAtSiteA").stack(), 0, 0, 1, 100_000),
                    siteOf(profile, "allocateAtSiteA"));
            assertEquals(0, profile.liveObjects());
            assertEquals(2, profile.samplesTaken());
        }
    }

    /** A sampled dedicated mapping goes out as an AllocationSample event with its requested and mapped bytes. */
    @Test
    void dedicatedSamplesAreRecordedAsAllocationSamples(@TempDir Path dir) throws Exception {
        String name = "HeapProfileTest-dedicated-" + System.nanoTime();
        Path file = dir.resolve("dedicated.jfr");
        long address;
        long mapped;
        try (Recording recording = new Recording()) {
            recording.enable("dev.spanheap.AllocationSample");
            recording.start();
            try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name(name).addressSpaceBytes(4L << 26)
                    .scavengerEnabled(false).profileSampleBytes(1).build())) {
                address = heap.allocateAddress(70L << 20);
                mapped = heap.dedicatedMappings().at(address).mappedBytes();
                assertEquals(1, heap.profile().samplesTaken());
                heap.freeAddress(address);
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> samples = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.spanheap.AllocationSample") && name.equals(e.getString("heap")))
                .toList();
        assertEquals(1, samples.size(), "one event for the one sample");
        RecordedEvent event = samples.getFirst();
        assertEquals(70L << 20, event.getLong("requestedBytes"));
        assertEquals(mapped, event.getLong("slotBytes"));
        assertEquals(0, event.getInt("sizeClass"));
        assertEquals(address, event.getLong("address"));
    }

    /**
     * Sites in the profile: most live bytes first, and among sites with equal live bytes (here
     * none live) most allocated bytes first. Six sites (a lambda each) of large objects sampled
     * with chance 1, so their figures are the requested bytes exactly.
     */
    @Test
    void sitesComeMostLiveBytesFirstThenMostAllocatedBytes() {
        try (SpanHeap heap = heap(1)) {
            List<LongUnaryOperator> sites = List.of(
                    size -> heap.allocateAddress(size),
                    size -> heap.allocateAddress(size),
                    size -> heap.allocateAddress(size),
                    size -> heap.allocateAddress(size),
                    size -> heap.allocateAddress(size),
                    size -> heap.allocateAddress(size));
            long[] kept = {
                sites.get(0).applyAsLong(100_000),
                sites.get(1).applyAsLong(300_000),
                sites.get(2).applyAsLong(200_000),
                sites.get(3).applyAsLong(400_000),
            };
            heap.freeAddress(sites.get(4).applyAsLong(500_000));
            heap.freeAddress(sites.get(5).applyAsLong(600_000));
            List<ProfileSite> profile = heap.profile().sites();
            assertEquals(List.of(400_000L, 300_000L, 200_000L, 100_000L, 0L, 0L),
                    profile.stream().map(ProfileSite::liveBytes).toList());
            assertEquals(List.of(400_000L, 300_000L, 200_000L, 100_000L, 600_000L, 500_000L),
                    profile.stream().map(ProfileSite::allocatedBytes).toList());
            for (long address : kept) {
                heap.freeAddress(address);
            }
        }
    }

    /**
     * The profiler's own checks ({@link HeapProfiler#verify}) against its state corrupted by
     * hand, each put back after: a sample's span freed, a sample past its span's end (the span's
     * page count set to 0, so the sample sits exactly at its end), a span counting one sample too
     * many; and, on a profiler of its own, one address sampled twice from one site, which
     * replaces the first sample but leaves the site counting two.
     */
    @Test
    void profilerChecksFindEachBrokenCount() {
        try (SpanHeap heap = heap(1)) {
            long large = heap.allocateAddress(100_000);
            Span span = heap.addressRange().spanAt(large);
            HeapProfiler profiler = heap.profiler();
            assertNull(profiler.verify());

            span.inUse = false;
            assertEquals("sample at " + Errors.hex(large) + " points to span " + span + " which is freed", profiler.verify());
            span.inUse = true;

            int pages = span.pages;
            span.pages = 0;
            assertEquals(large, span.end());
            assertEquals("sample at " + Errors.hex(large) + " points to span " + span + " which does not hold it", profiler.verify());
            span.pages = pages;

            span.liveSamples = 2;
            assertEquals("span " + span + " counts 2 live samples, the profile holds 1", profiler.verify());
            span.liveSamples = 1;
            assertNull(profiler.verify());
            heap.verifyInvariants();
            heap.freeAddress(large);

            HeapProfiler own = new HeapProfiler(1, heap.addressRange());
            long notAMapping = 1L << 40; // recorded only, never touched
            for (int i = 0; i < 2; i++) {
                own.sampleDedicated(notAMapping, 100, OsMemory.OS_PAGE_SIZE);
            }
            String problem = own.verify();
            assertTrue(problem != null && problem.startsWith("site ") && problem.contains("HeapProfileTest.profilerChecksFindEachBrokenCount(")
                    && problem.endsWith(" counts 2 live samples, the profile holds 1"), problem);
        }
    }
}
