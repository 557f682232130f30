package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The text report ({@link SpanHeap#report()}) carries the numbers of {@link HeapStats} and its
 * memory breakdown adds up; the JMX buffer pool that monitoring tools show agrees with the
 * statistics, appears only when asked for, and goes away with the heap.
 */
class HeapReportTest {

    private static final Pattern MEMORY_LINE = Pattern.compile("^  (\\s*\\S.*?)\\s{2,}(\\d+)\\s+\\S+ \\S+\\s*(\\S*%)?$",
            Pattern.MULTILINE);

    /** The byte column of each line of the report's Memory section, by label (leading spaces trimmed). */
    static java.util.Map<String, Long> memorySection(String report) {
        String section = report.substring(report.indexOf("Memory"), report.indexOf("Fragmentation"));
        java.util.Map<String, Long> values = new java.util.LinkedHashMap<>();
        Matcher m = MEMORY_LINE.matcher(section);
        while (m.find()) {
            values.put(m.group(1).trim(), Long.parseLong(m.group(2)));
        }
        return values;
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
            // held = spans + retained + dedicated; spans = small spans + large; small spans = live + cached + free + tails.
            assertEquals(memory.get("held from the OS (resident estimate)"), memory.get("in spans")
                    + memory.get("retained free pages (may be resident)") + memory.get("dedicated mappings (objects > 64 MiB)"));
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
}
