package dev.spanheap;

import java.nio.file.Path;

/**
 * How much of one heap's memory is backed by transparent huge pages, read from
 * {@code /proc/self/smaps} at most once per {@link #MAX_AGE_NANOS} (to write that file the kernel
 * walks the page tables of every mapping of the process, far more work than the rest of
 * {@link SpanHeap#stats()}, which tests call after every step), or at once on request
 * ({@link SpanHeap#report()}). No Go counterpart: Go reports its huge-page use through
 * {@code /proc} too, outside the runtime.
 *
 * <p>Synchronization: {@link #read} is synchronized; the figure it returns may be up to
 * {@link #MAX_AGE_NANOS} old.
 */
final class HugePageGauge {

    static final long MAX_AGE_NANOS = 1_000_000_000L;
    private static final Path SMAPS = Path.of("/proc/self/smaps");

    private final AddressRange range;
    private final DedicatedMappings dedicated;
    /** Guarded by this. */
    private long lastBytes = -1;
    /** Guarded by this; 0 = never read. */
    private long lastReadNanos;

    HugePageGauge(AddressRange range, DedicatedMappings dedicated) {
        this.range = range;
        this.dedicated = dedicated;
    }

    /** AnonHugePages bytes in the heap's arenas and dedicated mappings; -1 if unreadable. */
    synchronized long read(boolean fresh) {
        long now = System.nanoTime();
        if (fresh || lastReadNanos == 0 || now - lastReadNanos >= MAX_AGE_NANOS) {
            long[][] ranges = dedicated.ranges();
            long[] starts = new long[ranges[0].length + 1];
            long[] ends = new long[starts.length];
            starts[0] = range.base;
            ends[0] = range.base + range.addressSpaceBytes;
            System.arraycopy(ranges[0], 0, starts, 1, ranges[0].length);
            System.arraycopy(ranges[1], 0, ends, 1, ranges[1].length);
            lastBytes = TransparentHugePages.anonHugePageBytes(SMAPS, starts, ends);
            lastReadNanos = System.nanoTime();
        }
        return lastBytes;
    }
}
