package dev.spanheap;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The scavenger and its policy: a daemon platform thread that returns free pages to the OS; Go's
 * background scavenger. Every {@link #periodNanos(Duration) period} it runs {@link #passOnce()}: reclaims the
 * caches of ended threads and, when free pages that may be resident exceed
 * {@link SpanHeapConfig#scavengerRetainRatio()} of the memory in use, releases free runs idle for
 * at least {@link SpanHeapConfig#scavengerDelay()} (measured from the pass before the free, see
 * {@link AddressRange#coarseNanos()}), longest first, with MADV_DONTNEED (each page heap's
 * {@link PageReleaser} does the releasing), each page heap keeping its share of the retained
 * memory in proportion to what it has in use. With
 * {@code maxHeapBytes} set it also keeps held memory under 95% of the limit, and once above that
 * goal it releases free runs without waiting for them to go idle; from 80% of the limit up to that
 * goal the idle delay shrinks in proportion ({@link #idleNearLimit}). Once the heap asks for huge
 * pages ({@link AddressRange#hugePages}: configured, from {@link SpanHeapConfig#hugePagesFromBytes()}
 * held on) it releases whole 2 MiB regions and skips nearly-full ones ({@link HugePageRelease}),
 * except above the goal. With the scavenger disabled
 * ({@link SpanHeapConfig#scavengerEnabled()}) no thread runs, and a pass runs only when called.
 *
 * <p>Cost at rest: one wake-up per period that takes the registry lock (to look for ended threads)
 * and each page heap's lock for a few reads; {@code MemoryReturnTest.idleScavengerCostsLittleCpu}
 * bounds its CPU time (docs/memory.md). Started on the heap's first trip
 * to its central lists or page heap, stopped (and joined) by {@link SpanHeap#close()}. The thread
 * holds the heap strongly: a heap that is dropped without {@code close()} keeps its scavenger.
 */
final class Scavenger implements Runnable {

    /** The longest period between passes: that of the default delay of 1 s and of longer ones. */
    static final long PERIOD_NANOS = 250_000_000L;
    /** The shortest period between passes, for delays of 40 ms and less. */
    static final long MIN_PERIOD_NANOS = 10_000_000L;
    /** Share of the limit above which the idle delay shrinks (see {@link #idleNearLimit}). */
    static final double PRESSURE_START = 0.80;
    /** Share of the limit the scavenger keeps held memory under, as Go's memory-limit scavenger does. */
    static final double GOAL = 0.95;

    private final SpanHeap heap;
    private final boolean enabled;
    /** {@link SpanHeapConfig#scavengerDelay()} in nanoseconds, {@code Long.MAX_VALUE} for a delay longer than that. */
    private final long delayNanos;
    private final long periodNanos;
    private final Object startLock = new Object();
    /** Slots moved between caches and central lists as of the last pass. Guarded by passLock. */
    private long centralTrafficAtLastPass = -1;
    private final Object passLock = new Object();
    /** Guarded by startLock; read racily as a fast check. */
    private volatile Thread thread;
    private volatile boolean stopping;

    Scavenger(SpanHeap heap) {
        this.heap = heap;
        this.enabled = heap.config().scavengerEnabled();
        this.delayNanos = nanosOf(heap.config().scavengerDelay());
        this.periodNanos = periodNanos(heap.config().scavengerDelay());
    }

    /** {@code delay} in nanoseconds, saturated at {@code Long.MAX_VALUE} (about 292 years) where {@link Duration#toNanos} would throw. */
    private static long nanosOf(Duration delay) {
        return delay.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : delay.toNanos();
    }

    /**
     * The time between passes for {@code delay}: a quarter of it, from {@link #MIN_PERIOD_NANOS} to
     * {@link #PERIOD_NANOS}. A free run's idle time is stamped with the clock of the pass before
     * its free ({@link AddressRange#coarseNanos()}), so it is released between one period before
     * and one period after {@code delay} has passed since the free: with a fixed 250 ms period, a
     * 50 ms delay could take 300 ms, six times the delay; with a quarter, 62.5 ms.
     */
    static long periodNanos(Duration delay) {
        return Math.clamp(nanosOf(delay) / 4, MIN_PERIOD_NANOS, PERIOD_NANOS);
    }

    /** Starts the background thread on the heap's first slow-path visit, if the scavenger is enabled. */
    void ensureStarted() {
        if (thread != null || !enabled) {
            return;
        }
        synchronized (startLock) {
            if (thread == null && !stopping) {
                Thread t = Thread.ofPlatform().daemon().name("spanheap-scavenger-" + heap.config().name()).unstarted(this);
                thread = t;
                t.start();
            }
        }
    }

    void stop() {
        Thread t;
        synchronized (startLock) {
            stopping = true;
            t = thread;
        }
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void run() {
        while (!stopping) {
            LockSupport.parkNanos(this, periodNanos);
            if (stopping) {
                return;
            }
            try {
                passOnce();
            } catch (IllegalStateException closedMeanwhile) {
                return;
            } catch (RuntimeException | Error e) {
                // A failed madvise must not kill the thread silently: report once and keep going.
                System.getLogger("dev.spanheap").log(System.Logger.Level.WARNING, "scavenger pass failed", e);
            }
        }
    }

    /** One pass of the policy described in the class comment; returns the bytes released. */
    long passOnce() {
        synchronized (passLock) {
            heap.addressRange().refreshCoarseClock();
            heap.reclaimDeadCaches();
            heap.cacheRegistry().takeBackPageCacheRuns(true);
            CentralLists centrals = heap.centralLists();
            // Spare empty spans serve slot traffic between caches and central lists; once that
            // traffic has stopped for a whole period, they are just free memory: give them back.
            long traffic = centrals.racySlotTraffic();
            if (traffic == centralTrafficAtLastPass) {
                centrals.releaseEmptySpans();
            }
            centralTrafficAtLastPass = traffic;
            PageHeap[] pageHeaps = heap.pageHeaps();
            long[] inUse = new long[pageHeaps.length];
            long totalInUse = heap.dedicatedMappings().snapshot().mappedBytes();
            for (int i = 0; i < pageHeaps.length; i++) {
                inUse[i] = pageHeaps[i].snapshot().pagesInSpans() << SizeClasses.PAGE_SHIFT;
                totalInUse += inUse[i];
            }
            SpanHeapConfig config = heap.config();
            long retain = (long) (totalInUse * config.scavengerRetainRatio());
            long minIdleNanos = delayNanos;
            long limit = config.maxHeapBytes();
            boolean keepHugePages = heap.addressRange().hugePages;
            if (limit != Long.MAX_VALUE) {
                // Near the limit, keep held memory under 95% of it (as Go's memory-limit scavenger
                // aims), and once past that goal release free runs however recently they were used,
                // so that an allocation rarely has to release synchronously (or fail) at the limit.
                long goal = limit - limit / 20;
                retain = Math.min(retain, Math.max(0, goal - totalInUse));
                long held = heap.addressRange().heldBytes();
                if (held > goal) {
                    minIdleNanos = 0;
                    // Huge pages matter less than a clean OutOfMemoryError or the OOM killer:
                    // release whole runs, partly used 2 MiB regions included.
                    keepHugePages = false;
                } else {
                    minIdleNanos = idleNearLimit(minIdleNanos, held, limit);
                }
            }
            long released = 0;
            for (int i = 0; i < pageHeaps.length; i++) {
                long share = totalInUse == 0 ? 0 : (long) (retain * ((double) inUse[i] / totalInUse));
                released += pageHeaps[i].releaser.scavenge(share, minIdleNanos, keepHugePages);
            }
            if (released > 0) {
                // Only passes that released: an idle heap passes up to a hundred times a second.
                HeapEvents.memoryReleased(config.name(), released, HeapEvents.RELEASE_BY_SCAVENGER);
            }
            return released;
        }
    }

    /**
     * The idle time a free run needs before release, shortened as held memory nears the limit: the
     * configured delay up to {@link #PRESSURE_START} of the limit, falling linearly to zero at the
     * 95% goal, so that the scavenger works harder the closer the heap is to its limit.
     */
    static long idleNearLimit(long minIdleNanos, long heldBytes, long limitBytes) {
        double share = (double) heldBytes / limitBytes;
        if (share <= PRESSURE_START) {
            return minIdleNanos;
        }
        double left = Math.max(0, (GOAL - share) / (GOAL - PRESSURE_START));
        return (long) (minIdleNanos * left);
    }
}
