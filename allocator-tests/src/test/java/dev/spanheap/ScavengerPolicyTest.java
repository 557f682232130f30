package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scavenger's policy, one pass at a time and without its thread: which free pages a pass
 * releases, given the retain ratio, the idle delay and the limit, and when spare empty spans go
 * back. {@code MemoryReturnTest} checks the same with the thread running and real RSS; this one
 * is exact, with one shard, no huge-page rounding and runs laid out by hand: sixteen 1 MiB large
 * objects side by side in a fresh arena, every other one freed, leave eight free runs of 1 MiB
 * between 8 MiB in use.
 */
class ScavengerPolicyTest {

    private static final long MIB = 1 << 20;

    private static SpanHeapConfig.Builder exact() {
        // No page caches: the policy under test is the page heap's, over its free runs.
        return SpanHeapConfig.builder().scavengerEnabled(false).shards(1).hugePages(false).addressSpaceBytes(4L << 26).pageCacheBytes(0);
    }

    /** Eight free runs of 1 MiB between eight live 1 MiB objects; returns the live ones. */
    private static List<Long> eightFreeRunsBetweenEightLive(SpanHeap heap) {
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            all.add(heap.allocateAddress(MIB));
        }
        for (int i = 1; i < 16; i++) {
            assertEquals(all.get(i - 1) + MIB, all.get(i), "the objects sit side by side in a fresh arena");
        }
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            if (i % 2 == 0) {
                heap.freeAddress(all.get(i));
            } else {
                live.add(all.get(i));
            }
        }
        HeapStats stats = heap.stats();
        assertEquals(8 * MIB, stats.largeObjectBytes());
        assertEquals(8 * MIB, stats.retainedFreeBytes(), "the freed runs are retained until a pass: " + stats);
        return live;
    }

    /** The pass period follows the idle delay (a quarter of it), so a short delay is honoured to within a quarter. */
    @Test
    void thePassPeriodIsAQuarterOfTheDelayFrom10msTo250ms() {
        assertEquals(250_000_000L, Scavenger.periodNanos(Duration.ofSeconds(1)), "the default delay keeps four passes a second");
        assertEquals(250_000_000L, Scavenger.periodNanos(Duration.ofHours(1)));
        assertEquals(250_000_000L, Scavenger.periodNanos(Duration.ofDays(365 * 1000)), "a delay too long for nanoseconds");
        assertEquals(12_500_000L, Scavenger.periodNanos(Duration.ofMillis(50)));
        assertEquals(10_000_000L, Scavenger.periodNanos(Duration.ofMillis(40)));
        assertEquals(10_000_000L, Scavenger.periodNanos(Duration.ZERO), "at most a hundred passes a second");
    }

    @Test
    void aPassReleasesTheIdleFreeRunsBeyondTheRetainedShareOfTheMemoryInUse() {
        for (double ratio : new double[] {0.5, 0.25, 0}) {
            try (SpanHeap heap = SpanHeap.create(exact().scavengerRetainRatio(ratio).scavengerDelay(Duration.ZERO).build())) {
                eightFreeRunsBetweenEightLive(heap);
                long retain = (long) (8 * MIB * ratio);
                long released = HeapProbe.scavengeOnce(heap);
                HeapStats after = heap.stats();
                assertEquals(8 * MIB - retain, released, "ratio " + ratio + ": whole runs until " + retain + " B of free pages are retained");
                assertEquals(retain, after.retainedFreeBytes(), "ratio " + ratio);
                assertEquals(released, after.releasedBytesTotal(), "the pass's return is what it released");
                assertEquals(0, HeapProbe.scavengeOnce(heap), "ratio " + ratio + ": a second pass finds nothing above the share");
                heap.verifyInvariants();
            }
        }
    }

    @Test
    void runsFreedMoreRecentlyThanTheDelayStayUntilTheLimitIsNear() {
        try (SpanHeap far = SpanHeap.create(exact().scavengerRetainRatio(0).scavengerDelay(Duration.ofHours(1)).build())) {
            eightFreeRunsBetweenEightLive(far);
            assertEquals(0, HeapProbe.scavengeOnce(far), "no limit: runs idle for less than the delay are kept");
            assertEquals(8 * MIB, far.stats().retainedFreeBytes());
        }
        // Held 16 MiB (8 live, 8 free) under a limit of 1 GiB: far from it, the delay holds.
        try (SpanHeap roomy = SpanHeap.create(exact().scavengerRetainRatio(0).scavengerDelay(Duration.ofHours(1))
                .maxHeapBytes(1L << 30).build())) {
            eightFreeRunsBetweenEightLive(roomy);
            assertEquals(0, HeapProbe.scavengeOnce(roomy), "held at 1.6% of the limit: the delay holds");
        }
        // Held 16 MiB over a goal of 95% of 16.5 MiB: released at once, down to the goal.
        long limit = 16 * MIB + MIB / 2;
        try (SpanHeap tight = SpanHeap.create(exact().scavengerRetainRatio(0.5).scavengerDelay(Duration.ofHours(1))
                .maxHeapBytes(limit).build())) {
            eightFreeRunsBetweenEightLive(tight);
            long released = HeapProbe.scavengeOnce(tight);
            HeapStats after = tight.stats();
            long goal = limit - limit / 20;
            assertTrue(after.heldBytes() <= goal, "held " + after.heldBytes() + " B is at most the goal " + goal + " B");
            assertEquals(4 * MIB, released, "over the goal, idle or not, down to the retained share (4 MiB of 8 in use)");
        }
        // The same heap keeping all its free pages (ratio 1) would stay over the goal: the share
        // is cut to what fits under it (15.675 - 8 MiB), so one whole run goes.
        try (SpanHeap capped = SpanHeap.create(exact().scavengerRetainRatio(1).scavengerDelay(Duration.ofHours(1))
                .maxHeapBytes(limit).build())) {
            eightFreeRunsBetweenEightLive(capped);
            assertEquals(MIB, HeapProbe.scavengeOnce(capped), "the retained share is cut to the room under the goal");
            assertEquals(7 * MIB, capped.stats().retainedFreeBytes());
        }
    }

    /** A delay too long for nanoseconds means "never while far from the limit", not a pass that fails. */
    @Test
    void aDelayBeyondLongNanosKeepsRunsUntilTheLimitIsNear() {
        Duration never = Duration.ofSeconds(Long.MAX_VALUE);
        try (SpanHeap far = SpanHeap.create(exact().scavengerRetainRatio(0).scavengerDelay(never).build())) {
            eightFreeRunsBetweenEightLive(far);
            assertEquals(0, HeapProbe.scavengeOnce(far), "no limit: nothing is idle long enough");
            assertEquals(8 * MIB, far.stats().retainedFreeBytes());
        }
        long limit = 16 * MIB + MIB / 2;
        try (SpanHeap tight = SpanHeap.create(exact().scavengerRetainRatio(0.5).scavengerDelay(never).maxHeapBytes(limit).build())) {
            eightFreeRunsBetweenEightLive(tight);
            assertEquals(4 * MIB, HeapProbe.scavengeOnce(tight), "over the goal the delay does not count");
        }
    }

    @Test
    void spareEmptySpansGoBackAfterAPassWithoutSlotTraffic() {
        try (SpanHeap heap = SpanHeap.create(exact().scavengerDelay(Duration.ZERO).build())) {
            churn(heap);
            long spans = heap.stats().smallSpans();
            assertTrue(spans > 0, "the emptied spans are kept after the churn");
            HeapProbe.scavengeOnce(heap); // the first pass only notes the traffic so far
            assertEquals(spans, heap.stats().smallSpans(), "traffic since the last pass: the spans are kept");
            churn(heap); // on the kept spans: no new span taken, so only the class's spares stay when they empty
            HeapProbe.scavengeOnce(heap);
            long spares = heap.stats().smallSpans();
            assertTrue(spares > 0 && spares < spans, "traffic again: the spares are kept (" + spares + " of " + spans + ")");
            HeapProbe.scavengeOnce(heap);
            assertEquals(0, heap.stats().smallSpans(), "a whole period without traffic: the spares go back");
            heap.verifyInvariants();
        }
    }

    /**
     * Enough 1 KiB objects to pass through the central list, all freed, on a thread that then
     * ends: its cache goes back to the central lists when the heap reclaims it (statistics do),
     * which keep their spare empty spans ({@code flushReachableCaches} would return those too).
     */
    private static void churn(SpanHeap heap) {
        Thread worker = Thread.ofPlatform().start(() -> {
            long[] addresses = new long[2000];
            for (int i = 0; i < addresses.length; i++) {
                addresses[i] = heap.allocateAddress(1024);
            }
            for (long address : addresses) {
                heap.freeAddress(address);
            }
        });
        try {
            worker.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        assertEquals(0, heap.stats().liveObjects());
    }
}
