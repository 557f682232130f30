package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.Test;

/**
 * The sampled heap profile ({@link SpanHeap#profile()}): its estimates against a workload whose
 * truth is known, the dropping of samples on every free path (own thread, other thread, virtual
 * thread, large, dedicated, checked mode), and that the statistics stay exact while it samples.
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
            assertTrue(report.contains("top 1 sites by live bytes"), report);
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
}
