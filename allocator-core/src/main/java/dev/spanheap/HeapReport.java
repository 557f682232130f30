package dev.spanheap;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The human-readable statistics report behind {@link SpanHeap#report()}, in the spirit of
 * jemalloc's {@code malloc_stats_print}: where the memory held from the OS is (a breakdown that
 * adds up), how fragmented it is, what the allocator has done, then one line per size class in use
 * and per arena. Also the entry point of {@link SpanHeap#heapMap}, drawn by {@link HeapMapWriter}.
 *
 * <p>The breakdown follows the equations of {@link HeapStats}: held = spans + retained free pages
 * + dedicated mappings, and small spans = live slots + cached slots + free slots + span tails.
 * Requested sizes are tracked for large and dedicated objects only, so the internal fragmentation
 * of small objects is measured against slot sizes (free slots and span tails), not against what
 * callers asked for.
 */
final class HeapReport {

    private HeapReport() {
    }

    static String render(SpanHeap heap, HeapStats stats) {
        HeapPageSnapshot snapshot = HeapPageSnapshot.take(heap);
        StringBuilder out = new StringBuilder(8 * 1024);
        render(heap.config(), stats, snapshot, out);
        // The resident and huge-page figures in stats may be a second old; a report reads them anew.
        renderMachine(HeapStatsCollector.machineStats(heap, true), stats.maxHeapBytes(), heap.addressRange().hugePagesFromBytes, out);
        if (heap.config().profileSampleBytes() > 0) {
            renderProfile(heap.profile(), out);
        }
        return out.toString();
    }

    /** Sites the "Heap profile" section lists, most estimated live bytes first. */
    static final int PROFILE_TOP_SITES = 10;
    /** Frames printed per site in the report (the profile keeps more). */
    static final int PROFILE_FRAMES_SHOWN = 4;

    /** The "Heap profile" section: the sampled totals and the top sites by estimated live bytes. */
    static void renderProfile(HeapProfile profile, StringBuilder out) {
        out.append('\n');
        line(out, "Heap profile (one sample per %s on average, %d samples taken; estimates)",
                bytes(profile.sampleBytes()), profile.samplesTaken());
        line(out, "  live %s in %s over %s", bytes(profile.liveBytes()), counted(profile.liveObjects(), "object"),
                counted(profile.sites().size(), "site"));
        List<ProfileSite> top = profile.sites().stream().filter(site -> site.liveBytes() > 0).limit(PROFILE_TOP_SITES).toList();
        if (top.isEmpty()) {
            line(out, "  (no live samples)");
            return;
        }
        line(out, "  top %s by live bytes:", counted(top.size(), "site"));
        line(out, "      live bytes  live objects   allocated bytes  site");
        for (ProfileSite site : top) {
            List<StackTraceElement> stack = site.stack();
            line(out, "  %14d %13d %17d  %s", site.liveBytes(), site.liveObjects(), site.allocatedBytes(),
                    stack.isEmpty() ? "(no frames)" : stack.getFirst());
            for (int i = 1; i < Math.min(stack.size(), PROFILE_FRAMES_SHOWN); i++) {
                line(out, "  %14s %13s %17s    %s", "", "", "", stack.get(i));
            }
        }
    }

    static void writeHeapMap(SpanHeap heap, Path path) {
        HeapMapWriter.write(heap, path);
    }

    static void render(SpanHeapConfig config, HeapStats stats, HeapPageSnapshot snapshot, StringBuilder out) {
        line(out, "=== SpanHeap \"%s\" statistics ===", config.name());
        line(out, "config: maxHeapBytes %s, %s mode, scavenger %s, address space %s, %s",
                config.maxHeapBytes() == Long.MAX_VALUE ? "none" : bytes(config.maxHeapBytes()),
                config.checked() ? "checked" : "default",
                config.scavengerEnabled() ? "on (retains " + percent(config.scavengerRetainRatio()) + " over in-use, releases after "
                        + config.scavengerDelay().toMillis() + " ms idle)" : "off",
                bytes(config.addressSpaceBytes()), counted(config.shards(), "shard"));

        long smallSpanBytes = 0;
        long smallLiveBytes = 0;
        long smallTailBytes = 0;
        for (SizeClassStats c : stats.sizeClasses()) {
            smallSpanBytes += c.spanBytes();
            smallLiveBytes += c.liveBytes();
            long slotArea = (long) SizeClasses.SLOTS_PER_SPAN[c.sizeClass()] * c.slotSize();
            smallTailBytes += c.spans() * (((long) c.spanPages() << SizeClasses.PAGE_SHIFT) - slotArea);
        }
        long held = stats.heldBytes();
        out.append('\n');
        line(out, "Memory                                         bytes          size   of held");
        memory(out, "reserved address space in use (arenas+maps)", stats.reservedBytes(), -1);
        memory(out, "held from the OS (resident estimate)", held, held);
        memory(out, "  in spans", stats.spanBytes(), held);
        memory(out, "    small-object spans", smallSpanBytes, held);
        memory(out, "      live objects (slot bytes)", smallLiveBytes, held);
        memory(out, "      free slots in thread caches", stats.cachedBytes(), held);
        memory(out, "      free slots in spans", stats.freeSlotBytes(), held);
        memory(out, "      span tails (unusable)", smallTailBytes, held);
        memory(out, "    large objects (whole pages)", stats.largeObjectBytes(), held);
        memory(out, "  retained free pages (may be resident)", stats.retainedFreeBytes(), held);
        memory(out, "  free pages in page caches", stats.pageCacheBytes(), held);
        memory(out, "  dedicated mappings (objects > 64 MiB)", stats.dedicatedBytes(), held);
        memory(out, "released or never-used free pages", stats.releasedBytes(), -1);
        memory(out, "allocated to live objects", stats.allocatedBytes(), held);
        memory(out, "released to the OS since creation", stats.releasedBytesTotal(), -1);

        out.append('\n');
        line(out, "Fragmentation");
        line(out, "  small spans: %s of their bytes are not behind a live object (free and cached slots, tails);",
                percent(stats.smallFragmentation()));
        line(out, "    requested sizes of small objects are not tracked, so rounding up to the slot size is not counted");
        if (stats.largeObjectBytes() > 0) {
            line(out, "  large objects: %s requested in %s of pages (%s rounding waste)",
                    bytes(stats.largeRequestedBytes()), bytes(stats.largeObjectBytes()), percent(stats.largeFragmentation()));
        } else {
            line(out, "  large objects: none live");
        }
        line(out, "  free pages: %s in %d runs, the largest %s; external fragmentation %s",
                bytes(stats.freePageBytes()), stats.freeRuns(), bytes(stats.largestFreeRunBytes()),
                percent(stats.externalFragmentation()));
        line(out, "    (1 - largest run / free pages: a request larger than the largest run needs a new arena)");

        out.append('\n');
        line(out, "Activity");
        line(out, "  live objects %d; allocations %d, frees %d", stats.liveObjects(), stats.totalAllocations(), stats.totalFrees());
        line(out, "  small allocations: %d from a thread cache, %d refilled from a partial span, %d needed a new span",
                stats.allocationsFromCache(), stats.allocationsFromCentral(), stats.allocationsFromNewSpan());
        line(out, "  large objects: %d live, %d carved from free pages (%d of them from page caches); dedicated mappings: %d live, %s",
                stats.largeObjects(), stats.allocationsFromPageHeap(), stats.allocationsFromPageCache(), stats.dedicatedObjects(),
                bytes(stats.dedicatedBytes()));
        line(out, "  arenas mapped %d (%d reservations); thread caches %d; double frees caught %d",
                stats.arenas(), stats.arenaReservations(), stats.threadCaches(), stats.doubleFreesDetected());
        StackStats stack = stats.stack();
        if (stack != null) {
            line(out, "  thread stacks: %d stacks, %d chunks (%s), %s in use, high water %s, %d open frames of %d, %d fallbacks",
                    stack.threadStacks(), stack.chunks(), bytes(stack.chunkBytes()), bytes(stack.bytesInUse()),
                    bytes(stack.highWaterBytes()), stack.openFrames(), stack.framesOpened(), stack.fallbackAllocations());
        }

        out.append('\n');
        line(out, "Size classes (classes used so far)");
        line(out, "  class   slot pages  spans       live   cached       free  fill   allocations        frees");
        for (SizeClassStats c : stats.sizeClasses()) {
            long capacity = c.spans() * SizeClasses.SLOTS_PER_SPAN[c.sizeClass()];
            double fill = capacity == 0 ? 0 : (double) (c.liveObjects() + c.cachedSlots()) / capacity;
            line(out, "  %5d %6d %5d %6d %10d %8d %10d %5s %13d %12d", c.sizeClass(), c.slotSize(), c.spanPages(), c.spans(),
                    c.liveObjects(), c.cachedSlots(), c.freeSlots(), capacity == 0 ? "-" : percent(fill), c.allocations(), c.frees());
        }
        if (stats.sizeClasses().isEmpty()) {
            line(out, "  (none)");
        }

        out.append('\n');
        line(out, "Arenas (pages of 8 KiB)");
        line(out, "  arena  base                small   large  retained  released  cached  free runs  largest run");
        for (HeapPageSnapshot.ArenaPages arena : snapshot.arenas) {
            int runs = 0;
            int longest = 0;
            int current = 0;
            for (int p = 0; p < HeapArena.PAGES; p++) {
                boolean free = isFree(arena.state()[p]);
                if (free) {
                    current++;
                    longest = Math.max(longest, current);
                } else {
                    current = 0;
                }
                if (free && (p == 0 || !isFree(arena.state()[p - 1]))) {
                    runs++;
                }
            }
            line(out, "  %5d  %-18s %6d  %6d  %8d  %8d  %6d  %9d  %11d", arena.index(), Errors.hex(arena.base()),
                    arena.smallSpanPages(), arena.count(HeapPageSnapshot.LARGE), arena.count(HeapPageSnapshot.RETAINED),
                    arena.count(HeapPageSnapshot.RELEASED), arena.count(HeapPageSnapshot.CACHED), runs, longest);
        }
        if (snapshot.arenas.isEmpty()) {
            line(out, "  (none mapped yet)");
        }
    }

    /** Whether a page of that state is in a page heap's free run (retained or released; not a page cache's). */
    private static boolean isFree(byte state) {
        return state == HeapPageSnapshot.RETAINED || state == HeapPageSnapshot.RELEASED;
    }

    /**
     * The "Machine" section: address range, limit and its source, huge pages (see {@link MachineStats});
     * {@code hugePagesFromBytes} is the held bytes from which the heap asks for huge pages,
     * {@code Long.MAX_VALUE} if it never will ({@link AddressRange#hugePagesFromBytes}).
     */
    static void renderMachine(MachineStats machine, long maxHeapBytes, long hugePagesFromBytes, StringBuilder out) {
        if (machine == null) {
            return;
        }
        out.append('\n');
        line(out, "Machine");
        line(out, "  address space: %s reserved%s", bytes(machine.reservedAddressSpaceBytes()),
                machine.addressSpaceCutShort() ? " of " + bytes(machine.requestedAddressSpaceBytes())
                        + " asked for (the OS refused more: an address-space limit); arenas beyond it cannot be mapped" : "");
        String limit = maxHeapBytes == Long.MAX_VALUE ? "none" : bytes(maxHeapBytes);
        String container = machine.containerLimitFile().isEmpty() ? ""
                : "; container limit " + (machine.containerLimitBytes() == Long.MAX_VALUE ? "none"
                        : bytes(machine.containerLimitBytes())) + " (" + machine.containerLimitFile() + ")";
        line(out, "  maxHeapBytes: %s, from %s%s", limit, switch (machine.maxHeapBytesSource()) {
            case CONFIG -> "the configuration";
            case PROPERTY -> "-Dspanheap.maxHeapBytes";
            case CGROUP_V1 -> "the cgroup v1 memory limit";
            case CGROUP_V2 -> "the cgroup v2 memory limit";
            case NONE -> "nowhere (not set, no container limit)";
        }, container);
        line(out, "  transparent huge pages: mode %s, heap %s; backed by huge pages: %s",
                machine.transparentHugePages(), machine.hugePagesAdvised() ? "asks for them (MADV_HUGEPAGE)"
                        : hugePagesFromBytes != Long.MAX_VALUE ? "does not ask yet (from " + bytes(hugePagesFromBytes) + " held)" : "does not ask",
                machine.hugePageBytes() < 0 ? "unknown (/proc/self/smaps unreadable)" : bytes(machine.hugePageBytes()));
        line(out, "  resident, as the OS counts it (mincore over the heap's mappings): %s (held pages never written are not resident)",
                bytes(machine.residentBytes()));
    }

    private static void memory(StringBuilder out, String label, long value, long held) {
        line(out, "  %-44s %14d %10s %8s", label, value, bytes(value), held <= 0 ? "" : percent((double) value / held));
    }

    private static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }

    /** {@code n} and the noun, plural unless {@code n} is 1: "1 shard", "2 shards", "0 sites". */
    static String counted(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /** "0 B", "512 B", "12.0 KiB", "1.5 MiB", "3.25 GiB". */
    static String bytes(long value) {
        if (value < 1024) {
            return value + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double scaled = value;
        int unit = -1;
        while (scaled >= 1024 && unit < units.length - 1) {
            scaled /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, scaled < 10 ? "%.2f %s" : "%.1f %s", scaled, units[unit]);
    }

    /** A fraction as a percentage with one decimal, "37.5%". */
    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", fraction * 100);
    }
}
