package dev.spanheap;

import java.io.BufferedReader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much of one heap's memory the OS really has resident, and how much of it is backed by
 * transparent huge pages: mincore over the heap's mapped arenas and dedicated mappings (exact,
 * page by page, whatever the kernel merged their mappings with), and the {@code AnonHugePages} of
 * those mappings in {@code /proc/self/smaps}. Both are read at most once per {@link #MAX_AGE_NANOS},
 * or at once on request ({@link SpanHeap#report()}, {@link SpanHeap#residentBytes()} for mincore
 * alone): to write smaps the kernel walks the page tables of every mapping of the process, and
 * mincore walks the heap's own, one system call per mapped arena; both are far more work than the
 * rest of {@link SpanHeap#stats()}, which tests call after every step. The measured figure is the check on the held estimate
 * ({@link HeapStats#residentEstimateBytes()}): only written pages are resident, so it is lower
 * wherever held pages were never written (a large block of which only the start is touched), and
 * the difference from the process's RSS is what the JVM and everything else hold. No Go
 * counterpart: Go reports resident memory through {@code /proc} too, outside the runtime.
 *
 * <p>Synchronization: {@link #read} is synchronized; the figures it returns may be up to
 * {@link #MAX_AGE_NANOS} old. {@link #residentNow} needs no lock (mincore of a mapping unmapped
 * meanwhile counts 0).
 */
final class ResidentGauge {

    static final long MAX_AGE_NANOS = 1_000_000_000L;
    private static final Path SMAPS = Path.of("/proc/self/smaps");

    /** What one read found; the huge-page bytes -1 if smaps could not be read. */
    record Reading(long residentBytes, long hugePageBytes) {
    }

    private final AddressRange range;
    private final DedicatedMappings dedicated;
    /** Guarded by this; null = never read. */
    private Reading last;
    /** Guarded by this. */
    private long lastReadNanos;

    ResidentGauge(AddressRange range, DedicatedMappings dedicated) {
        this.range = range;
        this.dedicated = dedicated;
    }

    /**
     * The heap's resident and huge-page bytes, read now if {@code fresh} or the last read is older
     * than {@link #MAX_AGE_NANOS}.
     */
    synchronized Reading read(boolean fresh) {
        long now = System.nanoTime();
        if (fresh || last == null || now - lastReadNanos >= MAX_AGE_NANOS) {
            long[][] ranges = dedicated.ranges();
            long[] starts = new long[ranges[0].length + 1];
            long[] ends = new long[starts.length];
            starts[0] = range.base;
            ends[0] = range.base + range.addressSpaceBytes;
            System.arraycopy(ranges[0], 0, starts, 1, ranges[0].length);
            System.arraycopy(ranges[1], 0, ends, 1, ranges[1].length);
            last = new Reading(residentBytes(ranges), anonHugePageBytes(SMAPS, starts, ends));
            lastReadNanos = System.nanoTime();
        }
        return last;
    }

    /** The heap's resident bytes, read now (mincore only, no smaps). */
    long residentNow() {
        return residentBytes(dedicated.ranges());
    }

    /**
     * The resident bytes of the mapped arenas and of the dedicated mappings {@code ranges} (as
     * {@link DedicatedMappings#ranges}), by mincore an arena's length at a time; a mapping
     * unmapped meanwhile counts 0.
     */
    private long residentBytes(long[][] ranges) {
        long resident = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vector = arena.allocate(HeapArena.BYTES / OsMemory.OS_PAGE_SIZE);
            for (int i = 0; i < range.arenas.length; i++) {
                if (range.arenas[i] != null) {
                    resident += residentIn(range.base + ((long) i << HeapArena.SHIFT), HeapArena.BYTES, vector);
                }
            }
            for (int i = 0; i < ranges[0].length; i++) {
                resident += residentIn(ranges[0][i], ranges[1][i] - ranges[0][i], vector);
            }
        }
        return resident;
    }

    private static long residentIn(long start, long bytes, MemorySegment vector) {
        long resident = 0;
        for (long at = 0; at < bytes; at += HeapArena.BYTES) {
            long found = OsMemory.residentBytes(start + at, Math.min(HeapArena.BYTES, bytes - at), vector);
            if (found < 0) {
                return 0;
            }
            resident += found;
        }
        return resident;
    }

    /**
     * The {@code AnonHugePages} bytes of the mappings in {@code smaps} that the ranges
     * {@code [starts[i], ends[i])} cover together (a mapping the kernel merged from a dedicated
     * mapping and the arena next to it is covered by the two; one merged with memory that is not
     * the heap's is not counted); -1 if the file cannot be read.
     */
    static long anonHugePageBytes(Path smaps, long[] starts, long[] ends) {
        long huge = 0;
        boolean inside = false;
        try (BufferedReader in = Files.newBufferedReader(smaps)) {
            String line;
            while ((line = in.readLine()) != null) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                    inside = isCovered(Long.parseUnsignedLong(line, 0, dash, 16), Long.parseUnsignedLong(line, dash + 1, space, 16),
                            starts, ends);
                } else if (inside && line.startsWith("AnonHugePages:")) {
                    String kb = line.substring("AnonHugePages:".length()).trim();
                    huge += Long.parseLong(kb.substring(0, kb.indexOf(' '))) << 10;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return huge;
    }

    /** Whether the ranges together cover {@code [start, end)}. */
    private static boolean isCovered(long start, long end, long[] starts, long[] ends) {
        long at = start;
        boolean advanced = true;
        while (Long.compareUnsigned(at, end) < 0 && advanced) {
            advanced = false;
            for (int i = 0; i < starts.length; i++) {
                if (Long.compareUnsigned(at, starts[i]) >= 0 && Long.compareUnsigned(at, ends[i]) < 0) {
                    at = ends[i];
                    advanced = true;
                    break;
                }
            }
        }
        return Long.compareUnsigned(at, end) >= 0;
    }

    private static boolean isHex(String line, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(line.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
