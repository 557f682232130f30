package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classic fragmentation pattern, allocate many objects and free every other one, must be
 * visible: in the statistics (half-full spans, free pages scattered in small runs), in the report,
 * and in the heap map. Fragmentation is the memory users cannot get back, so they must be able to
 * see it.
 */
class FragmentationTest {

    private static final long PAGE = 8192;
    /** 9 pages: a large object whose freed neighbours leave 9-page holes. */
    private static final long LARGE = 9 * PAGE;

    @Test
    void freeingEveryOtherObjectShowsInStatsReportAndMap(@TempDir Path dir) throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).name("every-other").build())) {
            // Small objects: 20,000 of 256 B (32 per one-page span), then every other one freed.
            List<Long> small = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) {
                small.add(heap.allocateAddress(256));
            }
            // Large objects fill the rest of the first arena, so the only free pages will be holes.
            List<Long> large = new ArrayList<>();
            while (heap.stats().largestFreeRunBytes() >= LARGE) {
                large.add(heap.allocateAddress(LARGE));
            }
            assertEquals(1, heap.stats().arenas(), "one arena, filled");
            for (int i = 0; i < small.size(); i += 2) {
                heap.freeAddress(small.get(i));
            }
            for (int i = 0; i < large.size(); i += 2) {
                heap.freeAddress(large.get(i));
            }
            heap.flushCurrentThreadCache();
            heap.verifyInvariants();

            HeapStats stats = heap.stats();
            SizeClassStats c256 = stats.sizeClasses().stream().filter(c -> c.slotSize() == 256).findFirst().orElseThrow();
            assertEquals(10_000, c256.liveObjects());
            assertEquals(20_000 / 32, c256.spans(), "no span emptied: each keeps every other slot");
            assertEquals(c256.spans() * 32 - 10_000, c256.freeSlots());
            assertEquals(20_000, c256.allocations());
            assertEquals(10_000, c256.frees());
            // Small spans are half empty.
            assertTrue(stats.smallFragmentation() > 0.45 && stats.smallFragmentation() < 0.55,
                    "small-span fragmentation " + stats.smallFragmentation());
            // Free pages are holes of 9 pages (a freed neighbour can merge only with the arena's last
            // short run), so the largest run is a tiny share of the free pages.
            int holes = (large.size() + 1) / 2;
            assertTrue(stats.freeRuns() >= holes, "free runs " + stats.freeRuns() + " >= holes " + holes);
            assertTrue(stats.largestFreeRunBytes() < 2 * LARGE, "largest run " + stats.largestFreeRunBytes());
            assertTrue(stats.freePageBytes() >= holes * LARGE, "free " + stats.freePageBytes());
            assertTrue(stats.externalFragmentation() > 0.99, "external fragmentation " + stats.externalFragmentation());
            assertEquals(0, stats.largeFragmentation(), "9-page requests fill their pages exactly");

            String report = heap.report();
            System.out.println(report);
            assertTrue(report.contains("external fragmentation " + HeapReport.percent(stats.externalFragmentation())), report);
            assertTrue(report.contains(HeapReport.percent(stats.smallFragmentation()) + " of their bytes are not behind a live object"),
                    report);
            assertTrue(report.matches("(?s).*\\n\\s+" + c256.sizeClass() + "\\s+256\\s+1\\s+625\\s+10000\\s+0\\s+10000\\s+50\\.0%\\s+20000\\s+10000\\n.*"),
                    "the 256-byte class line shows 625 half-full spans:\n" + report);

            Path file = Path.of(System.getProperty("spanheap.heapMapOut", dir.resolve("every-other.svg").toString()));
            heap.heapMap(file);
            HeapMapTest.ParsedMap map = HeapMapTest.parse(file);
            HeapMapTest.assertAgrees(map, stats);
            assertEquals(holes * 9, map.pages("retained"), "the holes, still dirty, are drawn as retained pages");
            String svg = Files.readString(file);
            assertTrue(svg.contains("data-key=\"externalFragmentation\" data-value=\"" + Math.round(stats.externalFragmentation() * 1000) + "\""));

            // A request one page longer than any hole cannot use the free pages: a new arena is mapped.
            long before = stats.arenaReservations();
            long wide = heap.allocateAddress(LARGE + PAGE);
            assertEquals(before + 1, heap.stats().arenaReservations(), "external fragmentation forced a new arena");
            heap.freeAddress(wide);

            for (int i = 1; i < small.size(); i += 2) {
                heap.freeAddress(small.get(i));
            }
            for (int i = 1; i < large.size(); i += 2) {
                heap.freeAddress(large.get(i));
            }
            heap.flushCurrentThreadCache();
            HeapStats end = heap.stats();
            assertEquals(0, end.liveObjects());
            assertEquals(end.arenas(), end.freeRuns(), "all free pages coalesced again, one run per arena");
            heap.verifyInvariants();
        }
    }
}
