package dev.spanheap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Draws a {@link HeapPageSnapshot} as one self-contained SVG file: every arena as a grid of its
 * 8192 pages, 128 pages (1 MiB) per row, each page coloured by its state, with a legend and the
 * totals of {@link HeapStats} on top. Fragmentation shows at a glance: pale (half-empty) spans,
 * amber free pages scattered between objects, grey released pages.
 *
 * <p><b>Colours.</b> A page of a small span takes a hue from its size class (blue for 8 B through
 * to red for 32 KiB) and a lightness from its span's fill (pale = few slots allocated, dark = full);
 * large objects are dark violet; free pages that may be resident are amber; released (or never
 * used) free pages are light grey; free pages a thread's {@link PageCache} holds are green. Spans
 * are separated by a thin gap.
 *
 * <p><b>Structure</b> (kept stable for tools and tests): the root {@code svg} holds
 * {@code g#totals} (one {@code text} per figure, with {@code data-key} and {@code data-value}),
 * {@code g#legend} (one {@code g.legend-entry} per state, with {@code data-state}), and one
 * {@code g.arena} per arena ({@code data-index}, {@code data-base}) whose {@code rect.cell}
 * elements each cover {@code data-pages} consecutive pages of one row with one {@code data-state}
 * ({@code small}, {@code large}, {@code retained}, {@code released}, {@code cached}; small cells also carry
 * {@code data-class}). Consecutive pages of a row in the same state and span share a rectangle, so
 * a file stays at most a few hundred kilobytes per arena.
 */
final class HeapMapWriter {

    static final int CELL = 4;
    static final int COLUMNS = 128;
    static final int ROWS = HeapArena.PAGES / COLUMNS;
    private static final int PANEL_WIDTH = COLUMNS * CELL;
    private static final int PANEL_HEIGHT = ROWS * CELL;
    private static final int PANELS_PER_ROW = 2;
    private static final int MARGIN = 16;
    private static final int GAP = 24;
    private static final int LABEL_HEIGHT = 18;
    private static final int HEADER_HEIGHT = 250;
    private static final int WIDTH = 2 * MARGIN + PANELS_PER_ROW * PANEL_WIDTH + (PANELS_PER_ROW - 1) * GAP;

    static final String COLOR_LARGE = "#4b2a6b";
    static final String COLOR_RETAINED = "#f2a93b";
    static final String COLOR_RELEASED = "#e4e4e4";
    static final String COLOR_CACHED = "#8fc7a0";

    private HeapMapWriter() {
    }

    /** Writes the picture of {@code heap} to {@code path}, replacing the file. */
    static void write(SpanHeap heap, Path path) {
        if (path == null) {
            throw new IllegalArgumentException("heapMap: path is null");
        }
        HeapStats stats = heap.stats();
        HeapPageSnapshot snapshot = HeapPageSnapshot.take(heap);
        StringBuilder svg = new StringBuilder(64 * 1024);
        render(heap.config(), stats, snapshot, svg);
        try (Writer out = Files.newBufferedWriter(path, StandardCharsets.UTF_8)) {
            out.append(svg);
        } catch (IOException e) {
            throw new UncheckedIOException("heapMap: cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    /** The hue of a size class: 220 (blue) for class 1 down to 0 (red) for class 67. */
    static int hue(int sizeClass) {
        return 220 - (sizeClass - 1) * 220 / (SizeClasses.CLASS_COUNT - 2);
    }

    /** Colour of a small-span page: the class's hue, lighter the emptier its span is. */
    static String smallColor(int sizeClass, double fill) {
        int lightness = (int) Math.round(86 - 48 * fill);
        return "hsl(" + hue(sizeClass) + ",70%," + lightness + "%)";
    }

    static void render(SpanHeapConfig config, HeapStats stats, HeapPageSnapshot snapshot, StringBuilder svg) {
        int arenaRows = (snapshot.arenas.size() + PANELS_PER_ROW - 1) / PANELS_PER_ROW;
        int height = HEADER_HEIGHT + Math.max(1, arenaRows) * (LABEL_HEIGHT + PANEL_HEIGHT + GAP) + MARGIN;
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"").append(height)
                .append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
                .append("\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
        svg.append("<title>SpanHeap heap map: ").append(escape(config.name())).append("</title>\n");
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        svg.append("<text x=\"").append(MARGIN).append("\" y=\"").append(MARGIN + 14)
                .append("\" font-size=\"18\" font-weight=\"bold\">SpanHeap \u201c").append(escape(config.name()))
                .append("\u201d: ").append(snapshot.arenas.size()).append(snapshot.arenas.size() == 1 ? " arena" : " arenas")
                .append(" of 64 MiB, one cell per 8 KiB page, one row per MiB</text>\n");
        renderTotals(stats, snapshot, svg);
        renderLegend(svg);
        if (snapshot.arenas.isEmpty()) {
            svg.append("<text x=\"").append(MARGIN).append("\" y=\"").append(HEADER_HEIGHT + 14)
                    .append("\">No arena is mapped yet: nothing has been allocated from the page heap.</text>\n");
        }
        for (int i = 0; i < snapshot.arenas.size(); i++) {
            int x = MARGIN + (i % PANELS_PER_ROW) * (PANEL_WIDTH + GAP);
            int y = HEADER_HEIGHT + (i / PANELS_PER_ROW) * (LABEL_HEIGHT + PANEL_HEIGHT + GAP);
            renderArena(snapshot.arenas.get(i), x, y, svg);
        }
        svg.append("</svg>\n");
    }

    private static void renderTotals(HeapStats stats, HeapPageSnapshot snapshot, StringBuilder svg) {
        svg.append("<g id=\"totals\" transform=\"translate(").append(MARGIN).append(',').append(MARGIN + 40).append(")\">\n");
        String limit = stats.maxHeapBytes() == Long.MAX_VALUE ? "no limit" : "limit " + HeapReport.bytes(stats.maxHeapBytes());
        int line = 0;
        line = total(svg, line, "heldBytes", stats.heldBytes(), "held from the OS: " + HeapReport.bytes(stats.heldBytes()) + " (" + limit + ")");
        line = total(svg, line, "spanBytes", stats.spanBytes(), "in spans: " + HeapReport.bytes(stats.spanBytes()));
        line = total(svg, line, "allocatedBytes", stats.allocatedBytes(), "behind " + stats.liveObjects() + " live objects: "
                + HeapReport.bytes(stats.allocatedBytes()));
        line = total(svg, line, "freeSlotBytes", stats.freeSlotBytes() + stats.cachedBytes(), "free slots in spans: "
                + HeapReport.bytes(stats.freeSlotBytes() + stats.cachedBytes()) + " (of which in thread caches "
                + HeapReport.bytes(stats.cachedBytes()) + ")");
        line = total(svg, line, "freePageBytes", stats.freePageBytes(), "free pages: " + HeapReport.bytes(stats.freePageBytes())
                + " in " + stats.freeRuns() + " runs, largest " + HeapReport.bytes(stats.largestFreeRunBytes()));
        line = total(svg, line, "retainedFreeBytes", stats.retainedFreeBytes(), "  retained (may be resident): "
                + HeapReport.bytes(stats.retainedFreeBytes()));
        line = total(svg, line, "releasedBytes", stats.releasedBytes(), "  released or never used: "
                + HeapReport.bytes(stats.releasedBytes()));
        line = total(svg, line, "smallFragmentation", Math.round(stats.smallFragmentation() * 1000),
                "small spans not behind live objects: " + HeapReport.percent(stats.smallFragmentation()));
        line = total(svg, line, "externalFragmentation", Math.round(stats.externalFragmentation() * 1000),
                "external fragmentation (1 - largest free run / free pages): " + HeapReport.percent(stats.externalFragmentation()));
        total(svg, line, "dedicatedBytes", snapshot.dedicatedBytes, snapshot.dedicatedObjects
                + " objects larger than an arena in their own mappings (not drawn): " + HeapReport.bytes(snapshot.dedicatedBytes));
        svg.append("</g>\n");
    }

    private static int total(StringBuilder svg, int line, String key, long value, String text) {
        svg.append("<text x=\"0\" y=\"").append(line * 16).append("\" data-key=\"").append(key).append("\" data-value=\"")
                .append(value).append("\">").append(escape(text)).append("</text>\n");
        return line + 1;
    }

    private static void renderLegend(StringBuilder svg) {
        int x = MARGIN + 600;
        svg.append("<g id=\"legend\" transform=\"translate(").append(x).append(',').append(MARGIN + 30).append(")\">\n");
        svg.append("<text x=\"0\" y=\"0\" font-weight=\"bold\">Legend</text>\n");
        // Small spans: one swatch per class, a hue ramp, then the fill ramp of one class.
        svg.append("<g class=\"legend-entry\" data-state=\"small\" transform=\"translate(0,12)\">\n");
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            svg.append("<rect x=\"").append((c - 1) * 6).append("\" y=\"0\" width=\"6\" height=\"12\" fill=\"")
                    .append(smallColor(c, 1.0)).append("\"/>\n");
        }
        svg.append("<text x=\"0\" y=\"26\">span of a size class: 8 B (blue) \u2026 32 KiB (red)</text>\n");
        for (int i = 0; i <= 4; i++) {
            double fill = i / 4.0;
            svg.append("<rect x=\"").append(i * 14).append("\" y=\"34\" width=\"12\" height=\"12\" fill=\"")
                    .append(smallColor(20, fill)).append("\"/>\n");
        }
        svg.append("<text x=\"76\" y=\"44\">span fill: empty \u2192 full</text>\n");
        svg.append("</g>\n");
        legendEntry(svg, 76, "large", COLOR_LARGE, "large object (over 32 KiB, whole pages)");
        legendEntry(svg, 96, "retained", COLOR_RETAINED, "free page, may be resident (retained)");
        legendEntry(svg, 116, "released", COLOR_RELEASED, "free page, released to the OS or never used");
        legendEntry(svg, 136, "cached", COLOR_CACHED, "free page held by a thread's page cache (held)");
        svg.append("</g>\n");
    }

    private static void legendEntry(StringBuilder svg, int y, String state, String color, String text) {
        svg.append("<g class=\"legend-entry\" data-state=\"").append(state).append("\" transform=\"translate(0,").append(y)
                .append(")\"><rect x=\"0\" y=\"0\" width=\"12\" height=\"12\" fill=\"").append(color)
                .append("\" stroke=\"#999999\" stroke-width=\"0.5\"/><text x=\"18\" y=\"10\">").append(escape(text))
                .append("</text></g>\n");
    }

    private static void renderArena(HeapPageSnapshot.ArenaPages arena, int x, int y, StringBuilder svg) {
        long smallPages = arena.smallSpanPages();
        long largePages = arena.count(HeapPageSnapshot.LARGE);
        long retained = arena.count(HeapPageSnapshot.RETAINED);
        long released = arena.count(HeapPageSnapshot.RELEASED);
        svg.append("<g class=\"arena\" data-index=\"").append(arena.index()).append("\" data-base=\"")
                .append(Errors.hex(arena.base())).append("\" transform=\"translate(").append(x).append(',').append(y).append(")\">\n");
        svg.append("<text x=\"0\" y=\"12\">arena ").append(arena.index()).append(" at ").append(Errors.hex(arena.base()))
                .append(": small ").append(HeapReport.bytes(smallPages << SizeClasses.PAGE_SHIFT))
                .append(", large ").append(HeapReport.bytes(largePages << SizeClasses.PAGE_SHIFT))
                .append(", free ").append(HeapReport.bytes((retained + released) << SizeClasses.PAGE_SHIFT))
                .append(" (released ").append(HeapReport.bytes(released << SizeClasses.PAGE_SHIFT)).append(")</text>\n");
        svg.append("<g transform=\"translate(0,").append(LABEL_HEIGHT).append(")\">\n");
        svg.append("<rect class=\"frame\" x=\"-0.5\" y=\"-0.5\" width=\"").append(PANEL_WIDTH + 1).append("\" height=\"")
                .append(PANEL_HEIGHT + 1).append("\" fill=\"none\" stroke=\"#888888\" stroke-width=\"0.5\"/>\n");
        byte[] state = arena.state();
        int[] spanIndex = arena.span();
        for (int row = 0; row < ROWS; row++) {
            int column = 0;
            while (column < COLUMNS) {
                int first = row * COLUMNS + column;
                int end = column + 1;
                while (end < COLUMNS && state[row * COLUMNS + end] == state[first]
                        && spanIndex[row * COLUMNS + end] == spanIndex[first]) {
                    end++;
                }
                cell(arena, first, end - column, column, row, svg);
                column = end;
            }
        }
        svg.append("</g>\n</g>\n");
    }

    /** One rectangle for {@code pages} pages of a row starting at arena page {@code first}. */
    private static void cell(HeapPageSnapshot.ArenaPages arena, int first, int pages, int column, int row, StringBuilder svg) {
        byte s = arena.state()[first];
        int spanIndex = arena.span()[first];
        HeapPageSnapshot.SpanInfo span = spanIndex < 0 ? null : arena.spans().get(spanIndex);
        // A span's last piece stops short of the next page, so neighbouring spans stay apart.
        boolean spanEndsHere = span != null && (first + pages == HeapArena.PAGES || arena.span()[first + pages] != spanIndex);
        double width = pages * CELL - (spanEndsHere ? 0.6 : 0);
        String stateName;
        String color;
        if (s == HeapPageSnapshot.RETAINED) {
            stateName = "retained";
            color = COLOR_RETAINED;
        } else if (s == HeapPageSnapshot.RELEASED) {
            stateName = "released";
            color = COLOR_RELEASED;
        } else if (s == HeapPageSnapshot.CACHED) {
            stateName = "cached";
            color = COLOR_CACHED;
        } else if (s == HeapPageSnapshot.LARGE) {
            stateName = "large";
            color = COLOR_LARGE;
        } else {
            stateName = "small";
            color = smallColor(s, span.fill());
        }
        svg.append("<rect class=\"cell\" data-state=\"").append(stateName).append("\" data-pages=\"").append(pages).append('"');
        if (s > 0) {
            svg.append(" data-class=\"").append(s).append('"');
        }
        svg.append(" x=\"").append(column * CELL).append("\" y=\"").append(row * CELL).append("\" width=\"")
                .append(String.format(Locale.ROOT, "%.1f", width)).append("\" height=\"").append(CELL - 0.4)
                .append("\" fill=\"").append(color).append('"');
        boolean firstPieceOfSpan = span != null && (first == 0 || arena.span()[first - 1] != spanIndex);
        if (firstPieceOfSpan) {
            svg.append("><title>").append(escape(describe(span))).append("</title></rect>\n");
        } else {
            svg.append("/>\n");
        }
    }

    private static String describe(HeapPageSnapshot.SpanInfo span) {
        if (span.sizeClass() == 0) {
            return "large object at " + Errors.hex(span.address()) + ": " + span.pages() + " pages, " + span.requestedBytes()
                    + " bytes requested";
        }
        return "span at " + Errors.hex(span.address()) + ": class " + span.sizeClass() + " (" + SizeClasses.SLOT_SIZE[span.sizeClass()]
                + " B slots), " + span.allocatedSlots() + "/" + span.capacity() + " slots allocated";
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            switch (ch) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                // XML 1.0 cannot carry most control characters, even escaped.
                default -> out.append(ch < 0x20 ? '?' : ch);
            }
        }
        return out.toString();
    }
}
