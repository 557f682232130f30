package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The heap map ({@link SpanHeap#heapMap}) is a well-formed SVG whose structure agrees with the
 * heap's statistics: one group per arena, cells that cover each arena's 8192 pages exactly once,
 * page counts per state that match {@link HeapStats}, a legend with every state, and totals that
 * carry the same numbers as {@code stats()}.
 */
class HeapMapTest {

    private static final String SVG = "http://www.w3.org/2000/svg";

    /** What a parsed heap map says: pages per state per arena, the totals, the legend's states. */
    record ParsedMap(Document document, List<Map<String, Long>> pagesByStatePerArena, Map<String, Long> totals,
                     Set<String> legendStates, int cells) {
        long pages(String state) {
            long n = 0;
            for (Map<String, Long> arena : pagesByStatePerArena) {
                n += arena.getOrDefault(state, 0L);
            }
            return n;
        }
    }

    static ParsedMap parse(Path file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document document = factory.newDocumentBuilder().parse(file.toFile());
        Element root = document.getDocumentElement();
        assertEquals("svg", root.getLocalName());
        assertEquals(SVG, root.getNamespaceURI());

        List<Map<String, Long>> arenas = new ArrayList<>();
        int cells = 0;
        NodeList groups = document.getElementsByTagNameNS(SVG, "g");
        Map<String, Long> totals = new HashMap<>();
        Set<String> legend = new java.util.HashSet<>();
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if ("arena".equals(g.getAttribute("class"))) {
                assertEquals(arenas.size(), Integer.parseInt(g.getAttribute("data-index")), "arenas in order");
                Map<String, Long> byState = new HashMap<>();
                NodeList rects = g.getElementsByTagNameNS(SVG, "rect");
                for (int r = 0; r < rects.getLength(); r++) {
                    Element rect = (Element) rects.item(r);
                    if (!"cell".equals(rect.getAttribute("class"))) {
                        continue;
                    }
                    cells++;
                    String state = rect.getAttribute("data-state");
                    assertTrue(Set.of("small", "large", "retained", "released").contains(state), state);
                    long pages = Long.parseLong(rect.getAttribute("data-pages"));
                    assertTrue(pages >= 1 && pages <= HeapMapWriter.COLUMNS, "a cell stays in its row: " + pages);
                    double width = Double.parseDouble(rect.getAttribute("width"));
                    assertTrue(width > (pages - 1) * HeapMapWriter.CELL && width <= pages * HeapMapWriter.CELL,
                            "cell width " + width + " for " + pages + " pages");
                    if (state.equals("small")) {
                        int sizeClass = Integer.parseInt(rect.getAttribute("data-class"));
                        assertTrue(sizeClass >= 1 && sizeClass <= 67, "class " + sizeClass);
                    }
                    byState.merge(state, pages, Long::sum);
                }
                long total = byState.values().stream().mapToLong(Long::longValue).sum();
                assertEquals(HeapArena.PAGES, total, "arena " + g.getAttribute("data-index") + " is covered exactly");
                arenas.add(byState);
            } else if ("totals".equals(g.getAttribute("id"))) {
                NodeList texts = g.getElementsByTagNameNS(SVG, "text");
                for (int t = 0; t < texts.getLength(); t++) {
                    Element text = (Element) texts.item(t);
                    totals.put(text.getAttribute("data-key"), Long.parseLong(text.getAttribute("data-value")));
                }
            } else if ("legend-entry".equals(g.getAttribute("class"))) {
                legend.add(g.getAttribute("data-state"));
            }
        }
        return new ParsedMap(document, arenas, totals, legend, cells);
    }

    /** Checks a parsed map against statistics taken at the same moment (a heap at rest). */
    static void assertAgrees(ParsedMap map, HeapStats stats) {
        assertEquals(stats.arenas(), map.pagesByStatePerArena().size(), "one group per arena");
        assertEquals(Set.of("small", "large", "retained", "released"), map.legendStates(), "legend");
        long page = 8192;
        long smallSpanBytes = stats.sizeClasses().stream().mapToLong(SizeClassStats::spanBytes).sum();
        assertEquals(smallSpanBytes, map.pages("small") * page, "small-span pages");
        assertEquals(stats.largeObjectBytes(), map.pages("large") * page, "large-object pages");
        assertEquals(stats.retainedFreeBytes(), map.pages("retained") * page, "retained free pages");
        assertEquals(stats.releasedBytes(), map.pages("released") * page, "released free pages");
        assertEquals(stats.heldBytes(), map.totals().get("heldBytes"));
        assertEquals(stats.spanBytes(), map.totals().get("spanBytes"));
        assertEquals(stats.allocatedBytes(), map.totals().get("allocatedBytes"));
        assertEquals(stats.freePageBytes(), map.totals().get("freePageBytes"));
        assertEquals(stats.retainedFreeBytes(), map.totals().get("retainedFreeBytes"));
        assertEquals(stats.releasedBytes(), map.totals().get("releasedBytes"));
        assertEquals(stats.dedicatedBytes(), map.totals().get("dedicatedBytes"));
        assertEquals(Math.round(stats.externalFragmentation() * 1000), map.totals().get("externalFragmentation"));
    }

    @Test
    void mapOfAMixedHeapAgreesWithItsStatistics(@TempDir Path dir) throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).name("map <&> \"test\"").build())) {
            List<MemorySegment> kept = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                MemorySegment s = heap.allocate(16 + (i % 40) * 100L, 8);
                if (i % 3 == 0) {
                    heap.free(s);
                } else {
                    kept.add(s);
                }
            }
            for (int i = 0; i < 40; i++) {
                MemorySegment s = heap.allocate((i + 5) * 10_000L, 8);
                if (i % 2 == 0) {
                    heap.free(s);
                } else {
                    kept.add(s);
                }
            }
            heap.releaseFreeMemory(); // some free pages released ...
            MemorySegment freedLater = heap.allocate(300_000, 8);
            heap.free(freedLater);    // ... and some retained
            MemorySegment huge = heap.allocate(70L << 20, 8); // a dedicated mapping, listed, not drawn
            kept.add(huge);
            heap.flushCurrentThreadCache();

            Path file = dir.resolve("map.svg");
            heap.heapMap(file);
            HeapStats stats = heap.stats();
            ParsedMap map = parse(file);
            assertAgrees(map, stats);
            assertTrue(map.pages("small") > 0 && map.pages("large") > 0 && map.pages("retained") > 0
                    && map.pages("released") > 0, "every state appears: " + map.pagesByStatePerArena());
            String text = Files.readString(file);
            assertTrue(text.contains("map &lt;&amp;&gt; &quot;test&quot;"), "the name is escaped");
            assertTrue(Files.size(file) < 400_000, "a one-arena map stays small: " + Files.size(file) + " bytes");
            kept.forEach(heap::free);
        }
    }

    @Test
    void mapOfAnEmptyHeapSaysSo(@TempDir Path dir) throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            Path file = dir.resolve("empty.svg");
            heap.heapMap(file);
            ParsedMap map = parse(file);
            assertAgrees(map, heap.stats());
            assertEquals(0, map.cells());
            assertTrue(Files.readString(file).contains("No arena is mapped yet"));
        }
    }

    @Test
    void badPathsAndClosedHeapsAreReported(@TempDir Path dir) {
        SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build());
        heap.free(heap.allocate(100, 8));
        Path missing = dir.resolve("no-such-dir").resolve("map.svg");
        UncheckedIOException io = assertThrows(UncheckedIOException.class, () -> heap.heapMap(missing));
        assertTrue(io.getMessage().contains(missing.toString()), io.getMessage());
        IllegalArgumentException nullPath = assertThrows(IllegalArgumentException.class, () -> heap.heapMap(null));
        assertTrue(nullPath.getMessage().contains("path is null"), nullPath.getMessage());
        heap.free(heap.allocate(100, 8)); // still usable
        heap.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> heap.heapMap(dir.resolve("x.svg")));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }
}
