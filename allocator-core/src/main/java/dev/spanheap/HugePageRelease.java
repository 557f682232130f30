package dev.spanheap;

/**
 * Which parts of a free run the scavenger releases so that huge pages survive: Go's scavenger
 * skips chunks that are nearly full for the same reason. Releasing even one 8 KiB page of a 2 MiB
 * region backed by a huge page makes the kernel split it into 4 KiB pages, and the region's hot
 * pages then cost TLB misses until khugepaged collapses them again, if ever.
 *
 * <p>The rule, per 2 MiB-aligned region a run overlaps (arenas are 64 MiB-aligned, so a region is
 * {@link #REGION_PAGES} pages from an arena-local multiple of that): a region the run covers
 * whole is released (whole regions next to each other in one madvise call); a region the run
 * covers in part is released only if the run covers at least 1/32 of it, so a region more than
 * 31/32 (96.875%, Go's threshold) in use keeps its huge page; the pages skipped stay retained (held,
 * dirty) until the run grows or the heap nears its limit, when everything is released. Pieces
 * without dirty pages are left out (nothing to give back).
 */
final class HugePageRelease {

    /** 8 KiB pages per 2 MiB region. */
    static final int REGION_PAGES = (int) (TransparentHugePages.HUGE_PAGE_BYTES >>> SizeClasses.PAGE_SHIFT);
    /** The least part of a region, in pages, that a run must cover for that region to be released in part. */
    static final int MIN_PARTIAL_PAGES = REGION_PAGES / 32;

    private static final int[] NONE = new int[0];

    private HugePageRelease() {
    }

    /**
     * The pieces of the free run {@code [local, local + length)} of {@code arena} (arena-local
     * pages) to release, as {@code {start0, length0, start1, length1, ...}} in address order; empty
     * when nothing should be. With {@code keepHugePages} false the whole run is one piece (if dirty).
     * Called holding the owning page heap's lock.
     */
    static int[] pieces(HeapArena arena, int local, int length, boolean keepHugePages) {
        if (!keepHugePages) {
            return arena.countDirty(local, length) > 0 ? new int[] {local, length} : NONE;
        }
        int end = local + length;
        int[] out = new int[8];
        int count = 0;
        for (int region = local - local % REGION_PAGES; region < end; region += REGION_PAGES) {
            int from = Math.max(local, region);
            int to = Math.min(end, region + REGION_PAGES);
            boolean whole = to - from == REGION_PAGES;
            if (!(whole || to - from >= MIN_PARTIAL_PAGES) || arena.countDirty(from, to - from) == 0) {
                continue;
            }
            if (count > 0 && out[count - 2] + out[count - 1] == from) {
                out[count - 1] += to - from;
            } else {
                if (count == out.length) {
                    out = java.util.Arrays.copyOf(out, out.length * 2);
                }
                out[count++] = from;
                out[count++] = to - from;
            }
        }
        return count == 0 ? NONE : java.util.Arrays.copyOf(out, count);
    }
}
