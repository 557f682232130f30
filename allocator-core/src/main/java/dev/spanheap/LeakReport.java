package dev.spanheap;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * What a heap still has allocated ({@link SpanHeap#leakReport()}): the live objects in total and
 * by size, from the heap's exact statistics, and, when the heap profile is on, where the live
 * objects were allocated, from its samples. {@link SpanHeap#close()} logs it when
 * {@link SpanHeapConfig.Builder#reportLeaksOnClose} is set and objects are still live.
 *
 * <p>The counts are exact when no other thread uses the heap (as {@link HeapStats} are); the sites
 * are estimates, each sample standing for about {@code profileSampleBytes} bytes of allocations.
 * The chunks the heap itself holds for the stacks of {@link SpanHeap#newConfinedArena()} are live
 * objects that no caller allocated: they are left out of the groups and counted apart.
 *
 * @param heapName           the heap's {@linkplain SpanHeapConfig#name() name}
 * @param groups             live objects by size: one group per size class with live objects
 *                           (smallest slot first), then large objects, then dedicated mappings,
 *                           each only when it has live objects
 * @param stackChunks        chunks held for stack arenas, left out of {@code groups}
 * @param stackChunkBytes    bytes of those chunks (as in the groups: slot sizes or whole pages)
 * @param profileSampleBytes the heap profile's sampling interval; 0 when profiling is off
 * @param sites              sampled allocation sites with live objects, most live bytes first
 */
public record LeakReport(String heapName, List<Group> groups, long stackChunks, long stackChunkBytes,
        long profileSampleBytes, List<ProfileSite> sites) {

    /** Sites {@link #format()} lists; the rest are summed on one line. */
    static final int SITES_SHOWN = 10;
    /** Frames {@link #format()} prints per site; deeper ones are counted. */
    static final int FRAMES_SHOWN = 16;

    /** What a {@link Group} holds. */
    public enum Kind {
        /** Objects of one size class, in slots of spans. */
        SIZE_CLASS,
        /** Objects over 32 KiB, each in whole 8 KiB pages of an arena. */
        LARGE,
        /** Objects larger than an arena, each in a mapping of its own. */
        DEDICATED
    }

    /**
     * Live objects of one size class, or all large objects, or all dedicated ones.
     *
     * @param kind      which of the three
     * @param sizeClass the size class (1 to 67) for {@link Kind#SIZE_CLASS}, else 0
     * @param slotSize  bytes per slot for {@link Kind#SIZE_CLASS}, else 0 (sizes vary)
     * @param objects   live objects
     * @param bytes     bytes behind them: slot sizes, whole pages, or whole mappings
     */
    public record Group(Kind kind, int sizeClass, int slotSize, long objects, long bytes) {
    }

    public LeakReport {
        if (heapName == null) {
            throw new IllegalArgumentException("heapName is null");
        }
        groups = List.copyOf(groups);
        sites = List.copyOf(sites);
    }

    /**
     * The report of a heap whose statistics are {@code stats}, whose stacks hold the chunks
     * {@code stackChunksBySize} ({@link ThreadStacks#chunksBySize()}) and whose profile is
     * {@code profile}.
     */
    static LeakReport of(String heapName, HeapStats stats, long[] stackChunksBySize, HeapProfile profile) {
        long[] stackInClass = new long[SizeClasses.CLASS_COUNT];
        long stackLarge = 0;
        long stackLargeBytes = 0;
        long stackChunks = 0;
        for (int i = 0; i < stackChunksBySize.length; i++) {
            long count = stackChunksBySize[i];
            long chunkBytes = FrameStack.chunkBytes(i);
            stackChunks += count;
            int sizeClass = SizeClasses.classOf(chunkBytes, 8); // as ThreadStacks.takeChunk allocates them
            if (sizeClass != 0) {
                stackInClass[sizeClass] += count;
            } else {
                stackLarge += count;
                stackLargeBytes += count * roundUpToPages(chunkBytes);
            }
        }

        List<Group> groups = new ArrayList<>();
        long stackChunkBytes = stackLargeBytes;
        for (SizeClassStats c : stats.sizeClasses()) {
            // A racing reader may see a stack chunk the class's counts do not have yet: never below 0.
            long ofStacks = Math.min(stackInClass[c.sizeClass()], c.liveObjects());
            stackChunkBytes += ofStacks * c.slotSize();
            long objects = c.liveObjects() - ofStacks;
            if (objects > 0) {
                groups.add(new Group(Kind.SIZE_CLASS, c.sizeClass(), c.slotSize(), objects, objects * c.slotSize()));
            }
        }
        groups.sort(Comparator.comparingInt(Group::slotSize));
        long large = stats.largeObjects() - Math.min(stackLarge, stats.largeObjects());
        if (large > 0) {
            groups.add(new Group(Kind.LARGE, 0, 0, large, Math.max(0, stats.largeObjectBytes() - stackLargeBytes)));
        }
        if (stats.dedicatedObjects() > 0) {
            groups.add(new Group(Kind.DEDICATED, 0, 0, stats.dedicatedObjects(), stats.dedicatedBytes()));
        }

        List<ProfileSite> live = new ArrayList<>();
        for (ProfileSite site : profile.sites()) {
            if (site.liveObjects() > 0 || site.liveBytes() > 0) {
                live.add(site);
            }
        }
        live.sort(Comparator.comparingLong(ProfileSite::liveBytes).thenComparingLong(ProfileSite::liveObjects).reversed());
        return new LeakReport(heapName, groups, stackChunks, stackChunkBytes, profile.sampleBytes(), live);
    }

    private static long roundUpToPages(long bytes) {
        return (bytes + SizeClasses.PAGE_SIZE - 1) & -SizeClasses.PAGE_SIZE;
    }

    /** Live objects over all groups (stack chunks left out). */
    public long liveObjects() {
        return groups.stream().mapToLong(Group::objects).sum();
    }

    /** Bytes behind the live objects over all groups (stack chunks left out). */
    public long liveBytes() {
        return groups.stream().mapToLong(Group::bytes).sum();
    }

    /** Whether any object is still allocated (stack chunks do not count). */
    public boolean hasLeaks() {
        return liveObjects() > 0;
    }

    /** The report as text: a header line, the groups, the top sites, and how to get sites if profiling is off. */
    public String format() {
        return format("has", ".");
    }

    /** The text {@link SpanHeap#close()} logs: as {@link #format()}, said of a heap being closed. */
    String formatAtClose() {
        return format("closed with", "; their memory is unmapped with the heap.");
    }

    private String format(String verb, String ending) {
        StringBuilder out = new StringBuilder(1024);
        if (!hasLeaks()) {
            line(out, "SpanHeap \"%s\" %s no objects still allocated.", heapName, verb);
            stackLine(out);
            return out.toString();
        }
        line(out, "LEAK: SpanHeap \"%s\" %s %d %s (%s) still allocated%s", heapName, verb,
                liveObjects(), liveObjects() == 1 ? "object" : "objects", HeapReport.bytes(liveBytes()), ending);
        line(out, "Live objects by size:");
        line(out, "  %-28s %10s %12s", "", "objects", "bytes");
        for (Group g : groups) {
            String what = switch (g.kind()) {
                case SIZE_CLASS -> g.slotSize() + "-byte slots (class " + g.sizeClass() + ")";
                case LARGE -> "large (whole pages)";
                case DEDICATED -> "dedicated (own mapping)";
            };
            line(out, "  %-28s %10d %12s", what, g.objects(), HeapReport.bytes(g.bytes()));
        }
        if (profileSampleBytes == 0) {
            line(out, "Allocation sites: not recorded, the heap profile is off. To see where the live objects were allocated,");
            line(out, "  build the heap with SpanHeapConfig.builder().profileSampleBytes(512 * 1024): one sample per 512 KiB"
                    + " allocated on average (profileSampleBytes(1) samples every allocation).");
        } else if (sites.isEmpty()) {
            line(out, "Allocation sites: none of the live objects was sampled (one sample per %s allocated on average;"
                    + " a smaller profileSampleBytes samples more).", HeapReport.bytes(profileSampleBytes));
        } else {
            line(out, "Allocation sites of the live objects (sampled, one per %s allocated on average; estimated"
                    + " bytes as requested):", HeapReport.bytes(profileSampleBytes));
            for (int i = 0; i < Math.min(SITES_SHOWN, sites.size()); i++) {
                ProfileSite site = sites.get(i);
                line(out, "  #%d %s in %d %s", i + 1, HeapReport.bytes(site.liveBytes()), site.liveObjects(),
                        site.liveObjects() == 1 ? "object" : "objects");
                List<StackTraceElement> stack = site.stack();
                for (int f = 0; f < Math.min(FRAMES_SHOWN, stack.size()); f++) {
                    line(out, "      at %s", stack.get(f));
                }
                if (stack.size() > FRAMES_SHOWN) {
                    line(out, "      ... %s", HeapReport.counted(stack.size() - FRAMES_SHOWN, "more frame"));
                }
                if (stack.isEmpty()) {
                    line(out, "      (no stack recorded)");
                }
            }
            if (sites.size() > SITES_SHOWN) {
                List<ProfileSite> rest = sites.subList(SITES_SHOWN, sites.size());
                line(out, "  ... %s with %s in %s", HeapReport.counted(rest.size(), "more site"),
                        HeapReport.bytes(rest.stream().mapToLong(ProfileSite::liveBytes).sum()),
                        HeapReport.counted(rest.stream().mapToLong(ProfileSite::liveObjects).sum(), "object"));
            }
        }
        stackLine(out);
        return out.toString();
    }

    private void stackLine(StringBuilder out) {
        if (stackChunks > 0) {
            line(out, "Not counted: %d %s (%s) the heap holds for the stacks of newConfinedArena().", stackChunks,
                    stackChunks == 1 ? "chunk" : "chunks", HeapReport.bytes(stackChunkBytes));
        }
    }

    private static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }

    @Override
    public String toString() {
        return format();
    }
}
