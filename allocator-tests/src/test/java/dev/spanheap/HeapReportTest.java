package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The text report ({@link SpanHeap#report()}) carries the numbers of {@link HeapStats} and its
 * memory breakdown adds up; each section's figures match the statistics, the arena pages or the
 * records it was given; the JMX buffer pool that monitoring tools show agrees with the
 * statistics, appears only when asked for, and goes away with the heap.
 */
class HeapReportTest {

    private static final Pattern MEMORY_LINE = Pattern.compile("^  (\\s*\\S.*?)\\s{2,}(\\d+)\\s+(\\S+ \\S+)\\s*(\\S*%)?$",
            Pattern.MULTILINE);

    /** One line of the Memory section: bytes, the same in units, and the share of held bytes ("" when none is shown). */
    record MemoryLine(long bytes, String size, String share) {
    }

    /** The lines of the report's Memory section, by label (leading spaces trimmed). */
    static java.util.Map<String, MemoryLine> memoryLines(String report) {
        String section = report.substring(report.indexOf("Memory"), report.indexOf("Fragmentation"));
        java.util.Map<String, MemoryLine> lines = new java.util.LinkedHashMap<>();
        Matcher m = MEMORY_LINE.matcher(section);
        while (m.find()) {
            String share = m.group(4) == null ? "" : m.group(4);
            lines.put(m.group(1).trim(), new MemoryLine(Long.parseLong(m.group(2)), m.group(3), share));
        }
        return lines;
    }

    /** The byte column of each line of the report's Memory section, by label (leading spaces trimmed). */
    static java.util.Map<String, Long> memorySection(String report) {
        java.util.Map<String, Long> values = new java.util.LinkedHashMap<>();
        memoryLines(report).forEach((label, line) -> values.put(label, line.bytes()));
        return values;
    }

    /** The report's lines from the one that starts with {@code header} to the next empty line, header included. */
    static List<String> section(String report, String header) {
        List<String> lines = report.lines().toList();
        int start = -1;
        for (int i = 0; i < lines.size() && start < 0; i++) {
            if (lines.get(i).startsWith(header)) {
                start = i;
            }
        }
        assertTrue(start >= 0, () -> "no section " + header + " in\n" + report);
        int end = start;
        while (end < lines.size() && !lines.get(end).isEmpty()) {
            end++;
        }
        return lines.subList(start, end);
    }

    /** A fraction as the report shows it, one decimal: 0.375 is "37.5%". */
    static String percentOf(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", fraction * 100);
    }

    @Test
    void reportCarriesTheStatisticsAndItsBreakdownAddsUp() {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).name("report-test").build())) {
            List<MemorySegment> kept = new ArrayList<>();
            for (int i = 0; i < 5000; i++) {
                MemorySegment s = heap.allocate(8 + (i % 200) * 24L, 8);
                if (i % 4 == 0) {
                    heap.free(s);
                } else {
                    kept.add(s);
                }
            }
            for (int i = 0; i < 20; i++) {
                kept.add(heap.allocate(100_000 + i, 8));
            }
            heap.free(heap.allocate(1 << 20, 8));
            HeapStats stats = heap.stats();
            String report = heap.report();
            System.out.println(report);

            assertTrue(report.startsWith("=== SpanHeap \"report-test\" statistics ==="), report);
            for (String section : List.of("Memory", "Fragmentation", "Activity", "Size classes", "Arenas")) {
                assertTrue(report.contains("\n" + section), "section " + section);
            }
            java.util.Map<String, Long> memory = memorySection(report);
            assertEquals(stats.heldBytes(), memory.get("held from the OS (resident estimate)"), memory.toString());
            assertEquals(stats.spanBytes(), memory.get("in spans"));
            assertEquals(stats.retainedFreeBytes(), memory.get("retained free pages (may be resident)"));
            assertEquals(stats.releasedBytes(), memory.get("released or never-used free pages"));
            assertEquals(stats.allocatedBytes(), memory.get("allocated to live objects"));
            assertEquals(stats.largeObjectBytes(), memory.get("large objects (whole pages)"));
            assertEquals(stats.cachedBytes(), memory.get("free slots in thread caches"));
            assertEquals(stats.freeSlotBytes(), memory.get("free slots in spans"));
            assertEquals(stats.pageCacheBytes(), memory.get("free pages in page caches"));
            assertTrue(stats.pageCacheBytes() > 0, "the 1 MiB object freed last is this thread's page cache's run");
            // held = spans + retained + page caches + dedicated; spans = small spans + large; small spans = live + cached + free + tails.
            assertEquals(memory.get("held from the OS (resident estimate)"), memory.get("in spans")
                    + memory.get("retained free pages (may be resident)") + memory.get("free pages in page caches")
                    + memory.get("dedicated mappings (objects > 64 MiB)"));
            assertEquals(memory.get("in spans"), memory.get("small-object spans") + memory.get("large objects (whole pages)"));
            assertEquals(memory.get("small-object spans"), memory.get("live objects (slot bytes)")
                    + memory.get("free slots in thread caches") + memory.get("free slots in spans") + memory.get("span tails (unusable)"));

            assertTrue(report.contains("live objects " + stats.liveObjects() + "; allocations " + stats.totalAllocations()
                    + ", frees " + stats.totalFrees()), report);
            for (SizeClassStats c : stats.sizeClasses()) {
                Pattern row = Pattern.compile("^\\s+" + c.sizeClass() + "\\s+" + c.slotSize() + "\\s+" + c.spanPages() + "\\s+"
                        + c.spans() + "\\s+" + c.liveObjects() + "\\s+" + c.cachedSlots() + "\\s+" + c.freeSlots()
                        + "\\s+\\S+\\s+" + c.allocations() + "\\s+" + c.frees() + "$", Pattern.MULTILINE);
                assertTrue(row.matcher(report).find(), "a row for class " + c + " in\n" + report);
            }
            assertTrue(report.contains("requested sizes of small objects are not tracked"), "says what is not tracked");
            assertTrue(report.contains(HeapReport.bytes(stats.largeRequestedBytes()) + " requested in "
                    + HeapReport.bytes(stats.largeObjectBytes())), report);
            assertTrue(Pattern.compile("^\\s+0\\s+0x[0-9a-f]+\\s+\\d+", Pattern.MULTILINE).matcher(report).find(), "arena 0 row");
            kept.forEach(heap::free);
        }
    }

    @Test
    void reportOfAFreshHeapHasNoClassesAndNoArenas() {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().maxHeapBytes(1 << 30).build())) {
            String report = heap.report();
            assertTrue(report.contains("config: maxHeapBytes 1.00 GiB"), report);
            assertTrue(report.contains("(none)") && report.contains("(none mapped yet)"), report);
        }
    }

    @Test
    void byteFormatting() {
        assertEquals("0 B", HeapReport.bytes(0));
        assertEquals("1023 B", HeapReport.bytes(1023));
        assertEquals("1.00 KiB", HeapReport.bytes(1024));
        assertEquals("1.50 MiB", HeapReport.bytes(3L << 19));
        assertEquals("64.0 MiB", HeapReport.bytes(64L << 20));
        assertEquals("8.00 EiB", HeapReport.bytes(Long.MAX_VALUE));
    }

    @Test
    void bufferPoolMXBeanIsOptInAgreesWithStatsAndLeavesWithTheHeap() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("java.nio:type=BufferPool,name=mx-report-test");
        try (SpanHeap unregistered = SpanHeap.create(SpanHeapConfig.builder().name("mx-report-test").build())) {
            assertFalse(server.isRegistered(name), "off by default");
        }
        SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name("mx-report-test").registerMXBean(true)
                .scavengerEnabled(false).build());
        try {
            assertTrue(server.isRegistered(name));
            List<MemorySegment> kept = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                kept.add(heap.allocate(1000, 8));
            }
            kept.add(heap.allocate(200_000, 8));
            BufferPoolMXBean pool = JMX.newMXBeanProxy(server, name, BufferPoolMXBean.class);
            HeapStats stats = heap.stats();
            assertEquals("mx-report-test", pool.getName());
            assertEquals(stats.liveObjects(), pool.getCount());
            assertEquals(stats.allocatedBytes(), pool.getTotalCapacity());
            assertEquals(stats.heldBytes(), pool.getMemoryUsed());
            assertEquals(name, pool.getObjectName());
            assertEquals(101L, server.getAttribute(name, "Count"), "plain JMX clients (jconsole) read the same");

            // A second heap with the same name cannot register; the first is unaffected.
            IllegalArgumentException clash = assertThrows(IllegalArgumentException.class, () -> SpanHeap.create(
                    SpanHeapConfig.builder().name("mx-report-test").registerMXBean(true).build()));
            assertTrue(clash.getMessage().contains("already registered"), clash.getMessage());
            assertEquals(101, pool.getCount());
            kept.forEach(heap::free);
        } finally {
            heap.close();
        }
        assertFalse(server.isRegistered(name), "close() unregisters");
        // Names with JMX special characters are quoted, not rejected.
        try (SpanHeap odd = SpanHeap.create(SpanHeapConfig.builder().name("a,b=c:d").registerMXBean(true).build())) {
            assertTrue(server.isRegistered(new ObjectName("java.nio:type=BufferPool,name=" + ObjectName.quote("a,b=c:d"))));
        }
    }

    /** A heap with no scavenger (nothing released behind the test's back) and no limit. */
    private static SpanHeapConfig.Builder quiet(String name) {
        return SpanHeapConfig.builder().name(name).scavengerEnabled(false).maxHeapBytes(0);
    }

    /**
     * Each Memory line shows its bytes in units and, for the parts of what is held, its share of
     * held bytes; the reserved address space, the released pages and the bytes released since
     * creation are not part of it and show none, nor does anything when nothing is held.
     */
    @Test
    void memoryLinesGiveTheirShareOfHeldBytes() {
        Set<String> outsideHeld = Set.of("reserved address space in use (arenas+maps)", "released or never-used free pages",
                "released to the OS since creation");
        try (SpanHeap heap = SpanHeap.create(quiet("memory-shares").build())) {
            List<MemorySegment> kept = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                kept.add(heap.allocate(16 + (i % 50) * 40L, 8));
            }
            heap.free(heap.allocate(1 << 20, 8));
            heap.releaseFreeMemory();
            heap.free(heap.allocate(300_000, 8)); // retained
            kept.add(heap.allocate(200_000, 8));
            kept.add(heap.allocateUninitialized(70L << 20, 8)); // a dedicated mapping
            HeapStats stats = heap.stats();
            java.util.Map<String, MemoryLine> memory = memoryLines(heap.report());
            assertEquals(15, memory.size(), memory.toString());
            assertEquals(stats.reservedBytes(), memory.get("reserved address space in use (arenas+maps)").bytes());
            assertTrue(stats.releasedBytesTotal() > 0, "a megabyte was released");
            assertEquals(stats.releasedBytesTotal(), memory.get("released to the OS since creation").bytes());
            assertEquals(stats.dedicatedBytes(), memory.get("dedicated mappings (objects > 64 MiB)").bytes());
            long held = stats.heldBytes();
            memory.forEach((label, line) -> {
                assertEquals(HeapReport.bytes(line.bytes()), line.size(), label);
                assertEquals(outsideHeld.contains(label) ? "" : percentOf((double) line.bytes() / held), line.share(), label);
            });
            assertEquals("100.0%", memory.get("held from the OS (resident estimate)").share());
            kept.forEach(heap::free);
        }
        try (SpanHeap fresh = SpanHeap.create(quiet("memory-fresh").build())) {
            assertEquals(new MemoryLine(0, "0 B", ""), memoryLines(fresh.report()).get("held from the OS (resident estimate)"),
                    "no share of nothing");
        }
    }

    /** The first line after the title: the limit, checked or default mode, the scavenger's policy, the range, the shards. */
    @Test
    void configLineNamesLimitModeScavengerAddressSpaceAndShards() {
        SpanHeapConfig checked = SpanHeapConfig.builder().name("config-checked").maxHeapBytes(512L << 20).checked(true)
                .scavengerEnabled(true).scavengerRetainRatio(0.25).scavengerDelay(Duration.ofMillis(1500))
                .addressSpaceBytes(4L << 30).shards(3).build();
        try (SpanHeap heap = SpanHeap.create(checked)) {
            assertEquals("config: maxHeapBytes 512.0 MiB, checked mode, scavenger on (retains 25.0% over in-use, releases after"
                    + " 1500 ms idle), address space 4.00 GiB, 3 shards", heap.report().lines().toList().get(1));
        }
        SpanHeapConfig plain = quiet("config-plain").addressSpaceBytes(1L << 30).shards(2).build();
        try (SpanHeap heap = SpanHeap.create(plain)) {
            assertEquals("config: maxHeapBytes none, default mode, scavenger off, address space 1.00 GiB, 2 shards",
                    heap.report().lines().toList().get(1));
        }
        try (SpanHeap heap = SpanHeap.create(quiet("config-one-shard").addressSpaceBytes(1L << 30).shards(1).build())) {
            assertTrue(heap.report().lines().toList().get(1).endsWith(", 1 shard"), heap.report());
        }
    }

    /**
     * The Fragmentation section carries the statistics' fractions and free runs; without large
     * objects it says so instead of a zero rounding waste, and it explains external fragmentation.
     */
    @Test
    void fragmentationSectionCarriesTheStatisticsAndSaysWhenNoLargeObjectLives() {
        try (SpanHeap heap = SpanHeap.create(quiet("fragmentation").build())) {
            List<MemorySegment> kept = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                kept.add(heap.allocate(24 + (i % 30) * 64L, 8));
            }
            heap.free(heap.allocate(500_000, 8)); // a retained run: free pages, but no large object lives
            HeapStats stats = heap.stats();
            assertEquals(0, stats.largeObjects());
            List<String> expected = List.of("Fragmentation",
                    "  small spans: " + percentOf(stats.smallFragmentation())
                            + " of their bytes are not behind a live object (free and cached slots, tails);",
                    "    requested sizes of small objects are not tracked, so rounding up to the slot size is not counted",
                    "  large objects: none live",
                    "  free pages: " + HeapReport.bytes(stats.freePageBytes()) + " in " + stats.freeRuns() + " runs, the largest "
                            + HeapReport.bytes(stats.largestFreeRunBytes()) + "; external fragmentation "
                            + percentOf(stats.externalFragmentation()),
                    "    (1 - largest run / free pages: a request larger than the largest run needs a new arena)");
            assertEquals(expected, section(heap.report(), "Fragmentation"));

            long requested = 100_001;
            kept.add(heap.allocate(requested, 8));
            HeapStats withLarge = heap.stats();
            long pages = (requested + HeapProbe.PAGE_BYTES - 1) / HeapProbe.PAGE_BYTES * HeapProbe.PAGE_BYTES;
            assertEquals(pages, withLarge.largeObjectBytes());
            assertEquals("  large objects: " + HeapReport.bytes(requested) + " requested in " + HeapReport.bytes(pages)
                    + " of pages (" + percentOf(1 - (double) requested / pages) + " rounding waste)",
                    section(heap.report(), "Fragmentation").get(3));
            kept.forEach(heap::free);
        }
    }

    /** The Activity section carries the statistics' counters, and the thread stacks' while a frame is open. */
    @Test
    void activitySectionCarriesTheCountersAndTheThreadStacks() {
        try (SpanHeap heap = SpanHeap.create(quiet("activity").build())) {
            List<MemorySegment> kept = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 1000; i++) {
                    MemorySegment s = heap.allocate(64 + (i % 10) * 16L, 8);
                    if (i % 2 == 0) {
                        heap.free(s);
                    } else {
                        kept.add(s);
                    }
                }
            }
            for (int i = 0; i < 3; i++) {
                kept.add(heap.allocate(100_000 * (i + 1), 8));
            }
            kept.add(heap.allocateUninitialized(70L << 20, 8));
            try (Arena frame = heap.newConfinedArena()) {
                frame.allocate(1000, 8);
                HeapStats stats = heap.stats();
                StackStats stack = stats.stack();
                assertTrue(stats.allocationsFromCache() > 0 && stats.allocationsFromNewSpan() > 0, stats.toString());
                assertEquals(3, stats.largeObjects());
                assertEquals(1, stats.dedicatedObjects());
                assertEquals(1, stack.openFrames());
                assertTrue(stack.bytesInUse() >= 1000, stack.toString());
                List<String> expected = List.of("Activity",
                        "  live objects " + stats.liveObjects() + "; allocations " + stats.totalAllocations() + ", frees "
                                + stats.totalFrees(),
                        "  small allocations: " + stats.allocationsFromCache() + " from a thread cache, "
                                + stats.allocationsFromCentral() + " refilled from a partial span, "
                                + stats.allocationsFromNewSpan() + " needed a new span",
                        "  large objects: " + stats.largeObjects() + " live, " + stats.allocationsFromPageHeap()
                                + " carved from free pages (" + stats.allocationsFromPageCache()
                                + " of them from page caches); dedicated mappings: " + stats.dedicatedObjects() + " live, "
                                + HeapReport.bytes(stats.dedicatedBytes()),
                        "  arenas mapped " + stats.arenas() + " (" + stats.arenaReservations() + " reservations); thread caches "
                                + stats.threadCaches() + "; double frees caught " + stats.doubleFreesDetected(),
                        "  thread stacks: " + stack.threadStacks() + " stacks, " + stack.chunks() + " chunks ("
                                + HeapReport.bytes(stack.chunkBytes()) + "), " + HeapReport.bytes(stack.bytesInUse())
                                + " in use, high water " + HeapReport.bytes(stack.highWaterBytes()) + ", " + stack.openFrames()
                                + " open frames of " + stack.framesOpened() + ", " + stack.fallbackAllocations() + " fallbacks");
                assertEquals(expected, section(heap.report(), "Activity"));
            }
            kept.forEach(heap::free);
        }
    }

    /**
     * A size-class row's fill is the share of its spans' slots that are live or cached; every slot
     * of those spans is live, cached or free, so the capacity is also their sum. Frees land in the
     * thread cache here, so live and cached differ from zero and from each other.
     */
    @Test
    void sizeClassRowsGiveTheFillOfTheirSpans() {
        try (SpanHeap heap = SpanHeap.create(quiet("size-classes").build())) {
            List<MemorySegment> kept = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                MemorySegment s = heap.allocate(i % 2 == 0 ? 64 : 1000, 8);
                if (i % 3 == 0) {
                    heap.free(s);
                } else {
                    kept.add(s);
                }
            }
            HeapStats stats = heap.stats();
            List<String> lines = section(heap.report(), "Size classes");
            assertEquals(List.of("class", "slot", "pages", "spans", "live", "cached", "free", "fill", "allocations", "frees"),
                    Arrays.asList(lines.get(1).trim().split("\\s+")), "column heads");
            assertEquals(stats.sizeClasses().size() + 2, lines.size(), "a row per class used");
            boolean cachedAndLive = false;
            for (int i = 0; i < stats.sizeClasses().size(); i++) {
                SizeClassStats c = stats.sizeClasses().get(i);
                long capacity = c.spans() * SizeClasses.SLOTS_PER_SPAN[c.sizeClass()];
                assertEquals(capacity, c.liveObjects() + c.cachedSlots() + c.freeSlots(), c.toString());
                cachedAndLive |= c.cachedSlots() > 0 && c.liveObjects() > 0;
                List<String> expected = List.of(Integer.toString(c.sizeClass()), Integer.toString(c.slotSize()),
                        Integer.toString(c.spanPages()), Long.toString(c.spans()), Long.toString(c.liveObjects()),
                        Long.toString(c.cachedSlots()), Long.toString(c.freeSlots()),
                        percentOf((double) (c.liveObjects() + c.cachedSlots()) / capacity), Long.toString(c.allocations()),
                        Long.toString(c.frees()));
                assertEquals(expected, Arrays.asList(lines.get(i + 2).trim().split("\\s+")), "class " + c.sizeClass());
            }
            assertTrue(cachedAndLive, "a class with live and cached slots: " + stats.sizeClasses());
            kept.forEach(heap::free);
        }
    }

    /**
     * An arena's row counts its pages by state and its free runs: four large objects of 5 to 8
     * pages with the first and the third freed leave a run at page 0, a run between two objects
     * and the never-used rest; large pages neither join nor start a run. The runs and the longest
     * agree with the page heap's own count in {@link HeapStats}.
     */
    @Test
    void arenaRowsCountFreeRunsAroundLargeObjects() {
        // No page cache: the freed objects must be free runs of the page heap (PageCacheTest covers the cached column).
        try (SpanHeap heap = SpanHeap.create(quiet("arena-runs").shards(1).pageCacheBytes(0).build())) {
            long base = HeapProbe.base(heap);
            long page = HeapProbe.PAGE_BYTES;
            MemorySegment[] objects = new MemorySegment[4];
            for (int i = 0; i < objects.length; i++) {
                objects[i] = heap.allocate((5 + i) * page - 100, 8); // 5, 6, 7 and 8 pages
            }
            assertEquals(base, objects[0].address(), "the first object takes the arena's first pages");
            heap.free(objects[0]);
            heap.free(objects[2]);
            // Free runs are the gaps around the two live objects, in pages.
            long[][] live = {{(objects[1].address() - base) / page, 6}, {(objects[3].address() - base) / page, 8}};
            Arrays.sort(live, (a, b) -> Long.compare(a[0], b[0]));
            List<Long> gaps = new ArrayList<>();
            long cursor = 0;
            for (long[] object : live) {
                gaps.add(object[0] - cursor);
                cursor = object[0] + object[1];
            }
            gaps.add(HeapArena.PAGES - cursor);
            gaps.removeIf(g -> g == 0);
            long runs = gaps.size();
            long longest = gaps.stream().mapToLong(Long::longValue).max().orElseThrow();
            assertEquals(3, runs, "runs at page 0, between the objects, and the rest: " + gaps);

            HeapStats stats = heap.stats();
            assertEquals(stats.freeRuns(), runs, "the page heap counts the same runs");
            assertEquals(stats.largestFreeRunBytes(), longest * page);
            List<String> lines = section(heap.report(), "Arenas");
            assertEquals(List.of("arena", "base", "small", "large", "retained", "released", "cached", "free", "runs", "largest", "run"),
                    Arrays.asList(lines.get(1).trim().split("\\s+")), "column heads");
            long retained = 5 + 7; // the freed objects' pages, used and not released
            List<String> expected = List.of("0", Errors.hex(base), "0", Long.toString(6 + 8), Long.toString(retained),
                    Long.toString(HeapArena.PAGES - 6 - 8 - retained), "0", Long.toString(runs), Long.toString(longest));
            assertEquals(expected, Arrays.asList(lines.get(2).trim().split("\\s+")));
            assertEquals(3, lines.size(), "one arena");
            heap.free(objects[1]);
            heap.free(objects[3]);
        }
    }

    private static String machine(MachineStats machine, long maxHeapBytes) {
        StringBuilder out = new StringBuilder();
        HeapReport.renderMachine(machine, maxHeapBytes, Long.MAX_VALUE, out);
        return out.toString();
    }

    /** Under an address-space limit the Machine section says how much was asked for, and names the container limit. */
    @Test
    void machineSectionSaysWhenTheRangeWasCutShort() {
        MachineStats cut = new MachineStats(8L << 30, 2L << 30, HeapLimitSource.CGROUP_V2, 3L << 30, "/sys/fs/cgroup/memory.max",
                "madvise", true, 0, 3L << 20);
        assertEquals("\nMachine\n"
                + "  address space: 2.00 GiB reserved of 8.00 GiB asked for (the OS refused more: an address-space limit);"
                + " arenas beyond it cannot be mapped\n"
                + "  maxHeapBytes: 2.25 GiB, from the cgroup v2 memory limit;"
                + " container limit 3.00 GiB (/sys/fs/cgroup/memory.max)\n"
                + "  transparent huge pages: mode madvise, heap asks for them (MADV_HUGEPAGE); backed by huge pages: 0 B\n"
                + "  resident, as the OS counts it (mincore over the heap's mappings): 3.00 MiB (held pages never written are not resident)\n",
                machine(cut, 9L << 28));
    }

    /** Each limit source has its words; a container file read without a limit says none; unreadable smaps says unknown. */
    @Test
    void machineSectionNamesEachLimitSource() {
        MachineStats full = new MachineStats(1L << 30, 1L << 30, HeapLimitSource.CONFIG, Long.MAX_VALUE, "", "never", false, -1, 0);
        assertEquals("\nMachine\n"
                + "  address space: 1.00 GiB reserved\n"
                + "  maxHeapBytes: none, from the configuration\n"
                + "  transparent huge pages: mode never, heap does not ask;"
                + " backed by huge pages: unknown (/proc/self/smaps unreadable)\n"
                + "  resident, as the OS counts it (mincore over the heap's mappings): 0 B (held pages never written are not resident)\n",
                machine(full, Long.MAX_VALUE));
        MachineStats noLimit = new MachineStats(1L << 30, 1L << 30, HeapLimitSource.NONE, Long.MAX_VALUE,
                "/sys/fs/cgroup/memory.max: max", "always", true, 4L << 20, 6L << 20);
        List<String> lines = machine(noLimit, Long.MAX_VALUE).lines().toList();
        assertEquals("  maxHeapBytes: none, from nowhere (not set, no container limit); container limit none"
                + " (/sys/fs/cgroup/memory.max: max)", lines.get(3));
        assertEquals("  transparent huge pages: mode always, heap asks for them (MADV_HUGEPAGE); backed by huge pages: 4.00 MiB",
                lines.get(4));
        assertEquals("  resident, as the OS counts it (mincore over the heap's mappings): 6.00 MiB (held pages never written are not resident)",
                lines.get(5));
        java.util.Map<HeapLimitSource, String> words = java.util.Map.of(HeapLimitSource.PROPERTY, "-Dspanheap.maxHeapBytes",
                HeapLimitSource.CGROUP_V1, "the cgroup v1 memory limit", HeapLimitSource.CGROUP_V2, "the cgroup v2 memory limit");
        words.forEach((source, said) -> {
            MachineStats from = new MachineStats(1L << 30, 1L << 30, source, Long.MAX_VALUE, "", "never", false, 0, 0);
            assertEquals("  maxHeapBytes: 64.0 MiB, from " + said, machine(from, 64L << 20).lines().toList().get(3));
        });
        assertEquals("", machine(null, Long.MAX_VALUE), "no section without machine figures");
    }

    private static List<StackTraceElement> frames(String method, int count) {
        List<StackTraceElement> frames = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            frames.add(new StackTraceElement("dev.example.Caller", method + i, "Caller.java", 10 + i));
        }
        return frames;
    }

    /**
     * The profile section lists the sites with live samples, each with at most {@link
     * HeapReport#PROFILE_FRAMES_SHOWN} frames: the first on the site's row, the rest below it,
     * indented past the site column; a site without frames says so.
     */
    @Test
    void profileSectionListsLiveSitesWithAtMostFourFrames() {
        List<StackTraceElement> six = frames("six", 6);
        List<StackTraceElement> two = frames("two", 2);
        HeapProfile profile = new HeapProfile(512 << 10, 42, List.of(
                new ProfileSite(six, 3, 3_000_000, 10, 9_000_000),
                new ProfileSite(two, 2, 1_000_000, 4, 2_000_000),
                new ProfileSite(List.of(), 1, 500_000, 1, 500_000),
                new ProfileSite(frames("freed", 3), 0, 0, 5, 700_000)));
        StringBuilder out = new StringBuilder();
        HeapReport.renderProfile(profile, out);
        List<String> lines = out.toString().lines().toList();
        assertEquals(List.of("", "Heap profile (one sample per 512.0 KiB on average, 42 samples taken; estimates)",
                "  live " + HeapReport.bytes(4_500_000) + " in 6 objects over 4 sites", "  top 3 sites by live bytes:"),
                lines.subList(0, 4));
        assertEquals(List.of("live", "bytes", "live", "objects", "allocated", "bytes", "site"),
                Arrays.asList(lines.get(4).trim().split("\\s+")));
        List<String> rows = lines.subList(5, lines.size());
        assertEquals(List.of("3000000", "3", "9000000", six.get(0).toString()), Arrays.asList(rows.get(0).trim().split("\\s+")));
        int siteColumn = rows.get(0).indexOf(six.get(0).toString());
        for (int i = 1; i <= 3; i++) {
            assertEquals(six.get(i).toString(), rows.get(i).trim(), "frame " + i);
            assertTrue(rows.get(i).indexOf(six.get(i).toString()) > siteColumn, "below the site, indented: " + rows.get(i));
        }
        assertEquals(List.of("1000000", "2", "2000000", two.get(0).toString()), Arrays.asList(rows.get(4).trim().split("\\s+")));
        assertEquals(two.get(1).toString(), rows.get(5).trim());
        assertEquals(List.of("500000", "1", "500000", "(no", "frames)"), Arrays.asList(rows.get(6).trim().split("\\s+")));
        assertEquals(7, rows.size(), "four lines for the first site, two for the second, one for the third, none for the freed one");

        StringBuilder none = new StringBuilder();
        HeapReport.renderProfile(new HeapProfile(4096, 5, List.of(new ProfileSite(two, 0, 0, 5, 5000),
                new ProfileSite(six, 0, 0, 1, 100))), none);
        assertEquals(List.of("", "Heap profile (one sample per 4.00 KiB on average, 5 samples taken; estimates)",
                "  live 0 B in 0 objects over 2 sites", "  (no live samples)"), none.toString().lines().toList());
    }

    /**
     * Byte sizes switch unit at each power of 1024 (1024 of a unit is 1.00 of the next) and show
     * two decimals below 10 of a unit, one from 10 on; a long ends below 8 EiB.
     */
    @Test
    void byteUnitsChangeAtEachPowerOf1024() {
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        for (int k = 1; k <= units.length; k++) {
            long unit = 1L << (10 * k);
            String name = units[k - 1];
            assertEquals("1.00 " + name, HeapReport.bytes(unit));
            assertEquals("7.50 " + name, HeapReport.bytes(unit / 2 * 15));
            if (k < units.length) {
                assertEquals("9.50 " + name, HeapReport.bytes(unit / 2 * 19));
                assertEquals("10.0 " + name, HeapReport.bytes(unit * 10));
                assertEquals("1023.0 " + name, HeapReport.bytes(unit * 1023));
            }
        }
        assertEquals("1023 B", HeapReport.bytes(1023));
    }
}
