package dev.spanheap.bench;

import java.util.List;

/**
 * One line of a {@link SvgLineChart}: its legend name, its points as {@code {x, y}} pairs in
 * increasing x, and whether it is drawn heavier (SpanHeap's own lines, so a reader finds them).
 */
record ChartSeries(String name, List<double[]> points, boolean emphasised) {

    ChartSeries {
        points = List.copyOf(points);
    }
}
