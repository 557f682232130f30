package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The heap map ({@link SpanHeap#heapMap}) is a well-formed SVG whose structure agrees with the
 * heap's statistics: one group per arena, cells that cover each arena's 8192 pages exactly once,
 * page counts per state that match {@link HeapStats}, a legend with every state, and totals that
 * carry the same numbers as {@code stats()}; each cell drawn where its pages are, in its span's
 * colour and with its title, and the arenas' panels laid out two to a row.
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
                    assertTrue(Set.of("small", "large", "retained", "released", "cached").contains(state), state);
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

    /** The {@code g.arena} groups of a map, in document order. */
    static List<Element> arenaGroups(Document document) {
        List<Element> arenas = new ArrayList<>();
        NodeList groups = document.getElementsByTagNameNS(SVG, "g");
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if ("arena".equals(g.getAttribute("class"))) {
                arenas.add(g);
            }
        }
        return arenas;
    }

    /** The elements named {@code name} directly under {@code parent}, in document order. */
    static List<Element> children(Element parent, String name) {
        List<Element> found = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && name.equals(e.getLocalName())) {
                found.add(e);
            }
        }
        return found;
    }

    /** The {@code g} element with {@code id}. */
    static Element groupWithId(Document document, String id) {
        NodeList groups = document.getElementsByTagNameNS(SVG, "g");
        for (int i = 0; i < groups.getLength(); i++) {
            Element g = (Element) groups.item(i);
            if (id.equals(g.getAttribute("id"))) {
                return g;
            }
        }
        throw new AssertionError("no g#" + id);
    }

    /** The offset of an element's {@code transform="translate(x,y)"}. */
    static double[] translation(Element element) {
        String transform = element.getAttribute("transform");
        assertTrue(transform.startsWith("translate(") && transform.endsWith(")"), transform);
        String[] xy = transform.substring("translate(".length(), transform.length() - 1).split(",");
        return new double[] {Double.parseDouble(xy[0]), Double.parseDouble(xy[1])};
    }

    /** A numeric attribute. */
    static double number(Element element, String attribute) {
        return Double.parseDouble(element.getAttribute(attribute));
    }

    /** Hue, saturation and lightness of an {@code hsl(h,s%,l%)} colour. */
    static int[] hsl(String color) {
        assertTrue(color.startsWith("hsl(") && color.endsWith(")"), color);
        String[] parts = color.substring("hsl(".length(), color.length() - 1).replace("%", "").split(",");
        assertEquals(3, parts.length, color);
        return new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2])};
    }

    /**
     * One drawn cell as the tests compare it: position, width in tenths of a pixel, pages, state,
     * class ({@code null} when it has none), fill and title ({@code null} when it has none).
     */
    record Cell(double x, double y, long widthTenths, int pages, String state, String sizeClass, String fill, String title) {
    }

    /** The cells of one arena group, row by row and left to right. */
    static List<Cell> cells(Element arena) {
        List<Cell> cells = new ArrayList<>();
        NodeList rects = arena.getElementsByTagNameNS(SVG, "rect");
        for (int r = 0; r < rects.getLength(); r++) {
            Element rect = (Element) rects.item(r);
            if (!"cell".equals(rect.getAttribute("class"))) {
                continue;
            }
            double height = number(rect, "height");
            assertTrue(height > 0 && height < HeapMapWriter.CELL, "rows stay apart: height " + height);
            List<Element> titles = children(rect, "title");
            cells.add(new Cell(number(rect, "x"), number(rect, "y"), Math.round(number(rect, "width") * 10),
                    Integer.parseInt(rect.getAttribute("data-pages")), rect.getAttribute("data-state"),
                    rect.hasAttribute("data-class") ? rect.getAttribute("data-class") : null, rect.getAttribute("fill"),
                    titles.isEmpty() ? null : titles.getFirst().getTextContent()));
        }
        cells.sort(Comparator.comparingDouble(Cell::y).thenComparingDouble(Cell::x));
        return cells;
    }

    /** A span the test made: its first arena page, its length, and what its cells must say. */
    private record MadeSpan(int firstPage, int pages, String state, String sizeClass, String fill, String title) {
    }

    /** Marks {@code span}'s pages in the expected page model, checking it overlaps no other span. */
    private static void place(MadeSpan span, List<MadeSpan> spans, String[] state, int[] spanOf) {
        for (int p = span.firstPage(); p < span.firstPage() + span.pages(); p++) {
            assertEquals(-1, spanOf[p], "page " + p + " is in two spans");
            state[p] = span.state();
            spanOf[p] = spans.size();
        }
        spans.add(span);
    }

    /** Checks a parsed map against statistics taken at the same moment (a heap at rest). */
    static void assertAgrees(ParsedMap map, HeapStats stats) {
        assertEquals(stats.arenas(), map.pagesByStatePerArena().size(), "one group per arena");
        assertEquals(Set.of("small", "large", "retained", "released", "cached"), map.legendStates(), "legend");
        long page = 8192;
        long smallSpanBytes = stats.sizeClasses().stream().mapToLong(SizeClassStats::spanBytes).sum();
        assertEquals(smallSpanBytes, map.pages("small") * page, "small-span pages");
        assertEquals(stats.largeObjectBytes(), map.pages("large") * page, "large-object pages");
        assertEquals(stats.retainedFreeBytes(), map.pages("retained") * page, "retained free pages");
        assertEquals(stats.releasedBytes(), map.pages("released") * page, "released free pages");
        assertEquals(stats.pageCacheBytes(), map.pages("cached") * page, "free pages in page caches");
        assertEquals(stats.heldBytes(), map.totals().get("heldBytes"));
        assertEquals(stats.spanBytes(), map.totals().get("spanBytes"));
        assertEquals(stats.allocatedBytes(), map.totals().get("allocatedBytes"));
        assertEquals(stats.freeSlotBytes() + stats.cachedBytes(), map.totals().get("freeSlotBytes"), "cached slots included");
        assertEquals(stats.freePageBytes(), map.totals().get("freePageBytes"));
        assertEquals(stats.retainedFreeBytes(), map.totals().get("retainedFreeBytes"));
        assertEquals(stats.releasedBytes(), map.totals().get("releasedBytes"));
        assertEquals(stats.dedicatedBytes(), map.totals().get("dedicatedBytes"));
        assertEquals(Math.round(stats.smallFragmentation() * 1000), map.totals().get("smallFragmentation"), "per mille");
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

    /**
     * Every cell of an arena whose layout the test knows page by page: three one-page small spans,
     * a large object longer than a row, and three short ones of which the middle one is freed.
     * Each cell sits at its pages' place in the grid of 128 pages a row, stops short of the next
     * page only where its span ends, carries its span's state, class and colour (the class's hue at
     * its fill), and only the first piece of a span carries the span's title.
     */
    @Test
    void cellsDrawEachSpanAtItsPagesWithItsStateColourAndTitle(@TempDir Path dir) throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            long base = HeapProbe.base(heap);
            String[] state = new String[HeapArena.PAGES];
            int[] spanOf = new int[HeapArena.PAGES];
            Arrays.fill(state, "released"); // never used since the arena was mapped
            Arrays.fill(spanOf, -1);
            List<MadeSpan> spans = new ArrayList<>();
            List<MemorySegment> kept = new ArrayList<>();
            // Classes whose thread-cache refill fits one span, so each class has one span.
            int[][] sizeAndCount = {{48, 10}, {128, 40}, {256, 20}};
            for (int[] small : sizeAndCount) {
                int sizeClass = SizeClasses.classOf(small[0]);
                int capacity = SizeClasses.SLOTS_PER_SPAN[sizeClass];
                assertEquals(1, SizeClasses.SPAN_PAGES[sizeClass], "a class of one-page spans");
                assertTrue(small[1] < capacity, "fewer objects than one span holds");
                long page = -1;
                for (int i = 0; i < small[1]; i++) {
                    MemorySegment s = heap.allocate(small[0], 8);
                    kept.add(s);
                    long p = (s.address() - base) / HeapProbe.PAGE_BYTES;
                    assertTrue(page == -1 || page == p, "the objects of class " + sizeClass + " share one span");
                    page = p;
                }
                String title = "span at " + Errors.hex(base + page * HeapProbe.PAGE_BYTES) + ": class " + sizeClass + " ("
                        + HeapProbe.slotSize(sizeClass) + " B slots), " + small[1] + "/" + capacity + " slots allocated";
                place(new MadeSpan((int) page, 1, "small", Integer.toString(sizeClass),
                        HeapMapWriter.smallColor(sizeClass, (double) small[1] / capacity), title), spans, state, spanOf);
            }
            long rowCrossing = (3L << 19) - 100; // 192 pages: longer than a row, wherever it starts
            long[] largeSizes = {rowCrossing, 40_000, 45_000, 50_000};
            MemorySegment[] large = new MemorySegment[largeSizes.length];
            for (int i = 0; i < largeSizes.length; i++) {
                large[i] = heap.allocate(largeSizes[i], 8);
            }
            heap.free(large[2]); // leaves a hole of retained pages between two large objects
            for (int i = 0; i < largeSizes.length; i++) {
                int first = (int) ((large[i].address() - base) / HeapProbe.PAGE_BYTES);
                int pages = (int) ((largeSizes[i] + HeapProbe.PAGE_BYTES - 1) / HeapProbe.PAGE_BYTES);
                if (i == 2) {
                    Arrays.fill(state, first, first + pages, "retained");
                    continue;
                }
                kept.add(large[i]);
                place(new MadeSpan(first, pages, "large", null, HeapMapWriter.COLOR_LARGE, "large object at "
                        + Errors.hex(large[i].address()) + ": " + pages + " pages, " + largeSizes[i] + " bytes requested"),
                        spans, state, spanOf);
            }
            heap.flushCurrentThreadCache(); // cached slots count as allocated in their spans; none are left
            for (SizeClassStats c : heap.stats().sizeClasses()) {
                assertEquals(1, c.spans(), () -> "one span of class " + c.sizeClass() + ": " + c);
            }

            // The cells the layout asks for: each row cut where the state or the span changes.
            List<Cell> expected = new ArrayList<>();
            int cell = HeapMapWriter.CELL;
            for (int row = 0; row < HeapMapWriter.ROWS; row++) {
                int column = 0;
                while (column < HeapMapWriter.COLUMNS) {
                    int first = row * HeapMapWriter.COLUMNS + column;
                    int end = column + 1;
                    while (end < HeapMapWriter.COLUMNS && state[first + end - column].equals(state[first])
                            && spanOf[first + end - column] == spanOf[first]) {
                        end++;
                    }
                    int pages = end - column;
                    MadeSpan span = spanOf[first] < 0 ? null : spans.get(spanOf[first]);
                    boolean spanEndsHere = span != null && first + pages == span.firstPage() + span.pages();
                    String fill = span != null ? span.fill()
                            : state[first].equals("retained") ? HeapMapWriter.COLOR_RETAINED : HeapMapWriter.COLOR_RELEASED;
                    expected.add(new Cell(column * cell, row * cell, pages * cell * 10L - (spanEndsHere ? 6 : 0), pages,
                            state[first], span == null ? null : span.sizeClass(), fill,
                            span != null && first == span.firstPage() ? span.title() : null));
                    column = end;
                }
            }

            Path file = dir.resolve("cells.svg");
            heap.heapMap(file);
            ParsedMap map = parse(file);
            assertAgrees(map, heap.stats());
            Element arena = arenaGroups(map.document()).getFirst();
            assertEquals(Errors.hex(base), arena.getAttribute("data-base"));
            List<Cell> drawn = cells(arena);
            assertEquals(expected.size(), drawn.size(), "cells");
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i), drawn.get(i), "cell " + i);
            }
            assertTrue(expected.stream().anyMatch(c -> c.state().equals("large") && c.title() == null),
                    "the layout has a span drawn in two pieces");

            long smallPages = Arrays.stream(state).filter("small"::equals).count();
            long largePages = Arrays.stream(state).filter("large"::equals).count();
            long released = Arrays.stream(state).filter("released"::equals).count();
            long retained = Arrays.stream(state).filter("retained"::equals).count();
            assertTrue(retained > 0 && released > 0);
            String label = children(arena, "text").getFirst().getTextContent();
            assertEquals("arena 0 at " + Errors.hex(base) + ": small " + HeapReport.bytes(smallPages * HeapProbe.PAGE_BYTES)
                    + ", large " + HeapReport.bytes(largePages * HeapProbe.PAGE_BYTES)
                    + ", free " + HeapReport.bytes((retained + released) * HeapProbe.PAGE_BYTES)
                    + " (released " + HeapReport.bytes(released * HeapProbe.PAGE_BYTES) + ")", label);
            kept.forEach(heap::free);
        }
    }

    /**
     * An object of exactly 64 MiB fills an arena: one cell a row, each a full row wide except the
     * last, which ends the span at the arena's last page; only the first names the object.
     */
    @Test
    void anObjectFillingAnArenaEndsAtItsLastPage(@TempDir Path dir) throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            MemorySegment whole = heap.allocateUninitialized(HeapProbe.ARENA_BYTES, 8);
            Path file = dir.resolve("whole.svg");
            heap.heapMap(file);
            HeapStats stats = heap.stats();
            assertEquals(1, stats.arenas());
            assertEquals(0, stats.dedicatedObjects(), "64 MiB is not more than an arena");
            ParsedMap map = parse(file);
            assertAgrees(map, stats);
            List<Cell> expected = new ArrayList<>();
            int rowWidth = HeapMapWriter.COLUMNS * HeapMapWriter.CELL;
            for (int row = 0; row < HeapMapWriter.ROWS; row++) {
                boolean last = row == HeapMapWriter.ROWS - 1;
                String title = row > 0 ? null : "large object at " + Errors.hex(whole.address()) + ": " + HeapArena.PAGES
                        + " pages, " + HeapProbe.ARENA_BYTES + " bytes requested";
                expected.add(new Cell(0, row * HeapMapWriter.CELL, rowWidth * 10L - (last ? 6 : 0), HeapMapWriter.COLUMNS,
                        "large", null, HeapMapWriter.COLOR_LARGE, title));
            }
            assertEquals(expected, cells(arenaGroups(map.document()).getFirst()));
            heap.free(whole);
        }
    }

    /**
     * Arenas stand two to a row of panels, a panel of 128 by 64 cells below its label; the picture
     * is as wide as two panels, their gap and a margin each side, and as tall as its rows of panels
     * under the header plus a margin, keeping one row when no arena is mapped (for the message).
     */
    @Test
    void panelsStandTwoToARowAndThePictureFitsThem(@TempDir Path dir) throws Exception {
        SpanHeapConfig quiet = SpanHeapConfig.builder().scavengerEnabled(false).build();
        double panelWidth = HeapMapWriter.COLUMNS * HeapMapWriter.CELL;
        double panelHeight = HeapMapWriter.ROWS * HeapMapWriter.CELL;
        double pitch;
        double top;
        double margin;
        try (SpanHeap heap = SpanHeap.create(quiet)) {
            long objectBytes = 40L << 20; // two do not fit one 64 MiB arena: one arena each
            List<MemorySegment> kept = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                kept.add(heap.allocateUninitialized(objectBytes, 8));
            }
            Path file = dir.resolve("three.svg");
            heap.heapMap(file);
            HeapStats stats = heap.stats();
            assertEquals(3, stats.arenas());
            ParsedMap map = parse(file);
            assertAgrees(map, stats);
            List<Element> arenas = arenaGroups(map.document());
            double[] first = translation(arenas.get(0));
            double[] second = translation(arenas.get(1));
            double[] third = translation(arenas.get(2));
            margin = first[0];
            top = first[1];
            double gap = second[0] - first[0] - panelWidth;
            double label = translation(children(arenas.get(0), "g").getFirst())[1];
            pitch = label + panelHeight + gap;
            assertTrue(margin > 0 && gap > 0 && label > 0, "margin " + margin + ", gap " + gap + ", label " + label);
            assertEquals(top, second[1], "the second arena beside the first");
            assertEquals(margin, third[0], "the third arena starts a new row");
            assertEquals(top + pitch, third[1], "one row down");
            Element totals = groupWithId(map.document(), "totals");
            double lastTotal = children(totals, "text").stream().mapToDouble(t -> number(t, "y")).max().orElseThrow();
            assertTrue(top > translation(totals)[1] + lastTotal, "panels start below the totals");

            Element svg = map.document().getDocumentElement();
            assertEquals(2 * margin + 2 * panelWidth + gap, number(svg, "width"), "two panels, a gap, two margins");
            assertEquals(top + 2 * pitch + margin, number(svg, "height"), "two rows of panels");
            assertTrue(heading(map).contains(": 3 arenas of 64 MiB"), heading(map));
            for (int i = 0; i < 3; i++) {
                long arenaBase = HeapProbe.base(heap) + i * HeapProbe.ARENA_BYTES;
                Element arena = arenas.get(i);
                assertEquals(Errors.hex(arenaBase), arena.getAttribute("data-base"));
                long freeBytes = HeapProbe.ARENA_BYTES - objectBytes;
                assertEquals("arena " + i + " at " + Errors.hex(arenaBase) + ": small 0 B, large " + HeapReport.bytes(objectBytes)
                        + ", free " + HeapReport.bytes(freeBytes) + " (released " + HeapReport.bytes(freeBytes) + ")",
                        children(arena, "text").getFirst().getTextContent());
            }
            kept.forEach(heap::free);
        }
        try (SpanHeap heap = SpanHeap.create(quiet)) {
            heap.free(heap.allocate(100, 8));
            Path file = dir.resolve("one.svg");
            heap.heapMap(file);
            ParsedMap map = parse(file);
            assertEquals(1, map.pagesByStatePerArena().size());
            assertEquals(top + pitch + margin, number(map.document().getDocumentElement(), "height"), "one row of panels");
            assertTrue(heading(map).contains(": 1 arena of 64 MiB"), heading(map));
        }
        try (SpanHeap heap = SpanHeap.create(quiet)) {
            Path file = dir.resolve("none.svg");
            heap.heapMap(file);
            ParsedMap map = parse(file);
            assertEquals(top + pitch + margin, number(map.document().getDocumentElement(), "height"), "one row kept");
            assertTrue(heading(map).contains(": 0 arenas of 64 MiB"), heading(map));
        }
    }

    /** The bold first line of the picture. */
    private static String heading(ParsedMap map) {
        return children(map.document().getDocumentElement(), "text").getFirst().getTextContent();
    }

    /**
     * The totals stand one figure a line, in the documented order, each line below the last; the
     * free-slot figure counts the slots in thread caches too (nothing flushed here), and the first
     * line names the limit, or says there is none.
     */
    @Test
    void totalsStandOneALineAndNameTheLimit(@TempDir Path dir) throws Exception {
        List<String> keys = List.of("heldBytes", "spanBytes", "allocatedBytes", "freeSlotBytes", "freePageBytes",
                "retainedFreeBytes", "releasedBytes", "smallFragmentation", "externalFragmentation", "dedicatedBytes");
        long limit = 1L << 30;
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).maxHeapBytes(limit).build())) {
            List<MemorySegment> kept = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                MemorySegment s = heap.allocate(64, 8);
                if (i % 3 == 0) {
                    heap.free(s); // into this thread's cache
                } else {
                    kept.add(s);
                }
            }
            HeapStats stats = heap.stats();
            assertTrue(stats.cachedBytes() > 0, "some free slots are cached: " + stats);
            Path file = dir.resolve("totals.svg");
            heap.heapMap(file);
            ParsedMap map = parse(file);
            assertAgrees(map, stats);
            assertTrue(map.totals().get("smallFragmentation") > 0, "a part-used span is fragmented");

            List<Element> lines = children(groupWithId(map.document(), "totals"), "text");
            assertEquals(keys, lines.stream().map(t -> t.getAttribute("data-key")).toList());
            double lineHeight = number(lines.get(1), "y") - number(lines.get(0), "y");
            assertTrue(lineHeight >= 12, "lines at least a 12-px font apart: " + lineHeight);
            for (int i = 0; i < lines.size(); i++) {
                assertEquals(i * lineHeight, number(lines.get(i), "y"), keys.get(i));
            }
            assertEquals("held from the OS: " + HeapReport.bytes(stats.heldBytes()) + " (limit " + HeapReport.bytes(limit) + ")",
                    lines.get(0).getTextContent());
            assertEquals("free slots in spans: " + HeapReport.bytes(stats.freeSlotBytes() + stats.cachedBytes())
                    + " (of which in thread caches " + HeapReport.bytes(stats.cachedBytes()) + ")",
                    lines.get(3).getTextContent());
            kept.forEach(heap::free);
        }
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).maxHeapBytes(0).build())) {
            Path file = dir.resolve("unlimited.svg");
            heap.heapMap(file);
            Element held = children(groupWithId(parse(file).document(), "totals"), "text").getFirst();
            assertEquals("held from the OS: 0 B (no limit)", held.getTextContent());
        }
    }

    /**
     * The legend shows one full-span swatch per size class side by side, blue to red, then the fill
     * ramp of one class from empty to full in equal steps, then one swatch for each other state in
     * the colour its cells use.
     */
    @Test
    void legendShowsEveryClassAndTheFillRamp(@TempDir Path dir) throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            Path file = dir.resolve("legend.svg");
            heap.heapMap(file);
            Element legend = groupWithId(parse(file).document(), "legend");
            Map<String, Element> entries = new HashMap<>();
            for (Element entry : children(legend, "g")) {
                entries.put(entry.getAttribute("data-state"), entry);
            }
            // Two rows of swatches: the classes on top, the fill ramp below.
            Map<Double, List<Element>> rows = new TreeMap<>();
            for (Element rect : children(entries.get("small"), "rect")) {
                rows.computeIfAbsent(number(rect, "y"), y -> new ArrayList<>()).add(rect);
            }
            assertEquals(2, rows.size(), "two rows of swatches");
            List<Element> classes = rows.values().stream().toList().get(0);
            List<Element> ramp = rows.values().stream().toList().get(1);

            int classCount = HeapProbe.classCount() - 1; // classes 1 .. 67
            assertEquals(classCount, classes.size(), "one swatch per class");
            for (int i = 0; i < classCount; i++) {
                Element swatch = classes.get(i);
                assertEquals(i * number(swatch, "width"), number(swatch, "x"), "side by side from the left");
                assertEquals(HeapMapWriter.smallColor(i + 1, 1.0), swatch.getAttribute("fill"), "class " + (i + 1) + ", full");
            }
            assertEquals(220, hsl(classes.getFirst().getAttribute("fill"))[0], "8 B is blue");
            assertEquals(0, hsl(classes.getLast().getAttribute("fill"))[0], "32 KiB is red");

            assertEquals(5, ramp.size(), "empty, a quarter, half, three quarters, full");
            double step = number(ramp.get(1), "x") - number(ramp.get(0), "x");
            assertTrue(step > number(ramp.get(0), "width"), "ramp swatches stand apart");
            int hue = hsl(ramp.getFirst().getAttribute("fill"))[0];
            for (int i = 0; i < ramp.size(); i++) {
                int[] color = hsl(ramp.get(i).getAttribute("fill"));
                assertEquals(i * step, number(ramp.get(i), "x"), "evenly spaced");
                assertEquals(hue, color[0], "one class");
                assertEquals(hsl(HeapMapWriter.smallColor(1, i / 4.0))[2], color[2], "lightness at fill " + i / 4.0);
            }

            assertEquals(Set.of("small", "large", "retained", "released", "cached"), entries.keySet());
            assertEquals(HeapMapWriter.COLOR_LARGE, children(entries.get("large"), "rect").getFirst().getAttribute("fill"));
            assertEquals(HeapMapWriter.COLOR_RETAINED, children(entries.get("retained"), "rect").getFirst().getAttribute("fill"));
            assertEquals(HeapMapWriter.COLOR_RELEASED, children(entries.get("released"), "rect").getFirst().getAttribute("fill"));
            assertEquals(HeapMapWriter.COLOR_CACHED, children(entries.get("cached"), "rect").getFirst().getAttribute("fill"));
        }
    }

    /**
     * The palette: hue falls evenly from 220 (blue) for class 1 to 0 (red) for the last class, in
     * whole degrees; lightness falls evenly with a span's fill (pale when empty, dark when full)
     * and stays a valid percentage.
     */
    @Test
    void paletteRampsHueByClassAndLightnessByFill() {
        int last = HeapProbe.classCount() - 1;
        assertEquals(220, HeapMapWriter.hue(1));
        assertEquals(0, HeapMapWriter.hue(last));
        for (int c = 1; c <= last; c++) {
            double even = 220.0 * (last - c) / (last - 1);
            int hue = HeapMapWriter.hue(c);
            assertTrue(hue >= even && hue < even + 1, "class " + c + ": hue " + hue + ", evenly " + even);
        }
        for (int c : new int[] {1, 20, last}) {
            int[] empty = hsl(HeapMapWriter.smallColor(c, 0));
            int[] full = hsl(HeapMapWriter.smallColor(c, 1));
            assertTrue(empty[2] > full[2] && full[2] > 0 && empty[2] < 100, "pale when empty, dark when full: " + empty[2]
                    + " to " + full[2]);
            for (int quarter = 0; quarter <= 4; quarter++) {
                int[] color = hsl(HeapMapWriter.smallColor(c, quarter / 4.0));
                assertEquals(HeapMapWriter.hue(c), color[0], "the class's hue");
                double even = empty[2] + (full[2] - empty[2]) * quarter / 4.0;
                assertTrue(Math.abs(color[2] - even) <= 0.5, "lightness " + color[2] + " at fill " + quarter / 4.0);
            }
        }
    }
}
