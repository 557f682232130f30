package dev.spanheap.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.function.DoubleFunction;

/**
 * A line chart written as SVG text: a title and subtitle, a log-scaled x axis through the data's
 * x values (sizes, thread counts), a y axis on a log scale when the data spans decades and linear
 * from zero otherwise, grid lines, tick labels, axis labels, and a legend with one entry per
 * series. Each series is a {@code <g class="series">} holding its line and one {@code <circle>}
 * per point (with a tooltip), so a program can read the chart back.
 */
final class SvgLineChart {

    private static final int WIDTH = 980;
    private static final int MIN_HEIGHT = 580;
    private static final int TOP = 78;
    private static final int BOTTOM_MARGIN = 72;
    private static final int LEGEND_ROW = 22;
    private static final double TICK_FONT = 13;
    private static final double LEGEND_FONT = 13;

    private final String title;
    private final String subtitle;
    private final String xLabel;
    private final String yLabel;
    private final DoubleFunction<String> xTicks;
    private final DoubleFunction<String> yTicks;
    private final List<ChartSeries> series;

    SvgLineChart(String title, String subtitle, String xLabel, String yLabel,
                 DoubleFunction<String> xTicks, DoubleFunction<String> yTicks, List<ChartSeries> series) {
        if (series.isEmpty()) {
            throw new IllegalArgumentException("a chart needs at least one series: " + title);
        }
        this.title = title;
        this.subtitle = subtitle;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.xTicks = xTicks;
        this.yTicks = yTicks;
        this.series = List.copyOf(series);
    }

    String render() {
        TreeSet<Double> xs = new TreeSet<>();
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = 0;
        for (ChartSeries s : series) {
            for (double[] p : s.points()) {
                xs.add(p[0]);
                yMin = Math.min(yMin, p[1]);
                yMax = Math.max(yMax, p[1]);
            }
        }
        ChartAxis x = ChartAxis.logThrough(List.copyOf(xs));
        ChartAxis y = ChartAxis.forValues(yMin, yMax);

        double tickWidth = y.ticks.stream().mapToDouble(t -> SvgText.width(yTicks.apply(t), TICK_FONT)).max().orElse(0);
        double left = 44 + tickWidth;
        double legendWidth = 56 + series.stream().mapToDouble(s -> SvgText.width(s.name(), LEGEND_FONT)).max().orElse(0);
        double right = WIDTH - legendWidth - 24;
        int height = Math.max(MIN_HEIGHT, TOP + series.size() * LEGEND_ROW + BOTTOM_MARGIN + 10);
        double bottom = height - BOTTOM_MARGIN;

        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\">%n",
                WIDTH, height, WIDTH, height, SvgText.FONT));
        svg.append(String.format(Locale.ROOT, "<title>%s</title>%n", SvgText.escape(title)));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"30\" font-size=\"19\" font-weight=\"bold\" fill=\"#222\">%s</text>%n",
                left, SvgText.escape(title)));
        if (!subtitle.isEmpty()) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"53\" font-size=\"13\" fill=\"#555\">%s</text>%n",
                    left, SvgText.escape(subtitle)));
        }

        // Grid and y ticks; on a log scale of many decades, fainter lines at 2 and 5 times each decade.
        svg.append("<g class=\"y-axis\" font-size=\"13\" fill=\"#333\">\n");
        if (y.log) {
            for (double decade = y.low; decade < y.high; decade *= 10) {
                for (double m : new double[] {2, 5}) {
                    double v = decade * m;
                    if (!y.ticks.contains(v)) {
                        double py = bottom - y.fraction(v) * (bottom - TOP);
                        svg.append(String.format(Locale.ROOT,
                                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f0f0f0\"/>%n", left, py, right, py));
                    }
                }
            }
        }
        for (double tick : y.ticks) {
            double py = bottom - y.fraction(tick) * (bottom - TOP);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>%n",
                    left, py, right, py));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    left - 8, py + 4.5, SvgText.escape(yTicks.apply(tick))));
        }
        svg.append("</g>\n");
        svg.append("<g class=\"x-axis\" font-size=\"13\" fill=\"#333\">\n");
        for (double tick : x.ticks) {
            double px = left + x.fraction(tick) * (right - left);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>%n",
                    px, (double) TOP, px, bottom));
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>%n",
                    px, bottom, px, bottom + 5));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n",
                    px, bottom + 21, SvgText.escape(xTicks.apply(tick))));
        }
        svg.append("</g>\n");
        svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>%n",
                left, TOP, right - left, bottom - TOP));
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\" fill=\"#222\">%s</text>%n",
                (left + right) / 2, bottom + 48, SvgText.escape(xLabel)));
        double yLabelX = 20;
        double yLabelY = (TOP + bottom) / 2;
        svg.append(String.format(Locale.ROOT,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\" fill=\"#222\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>%n",
                yLabelX, yLabelY, yLabelX, yLabelY, SvgText.escape(yLabel + (y.log ? " (log scale)" : ""))));

        // Series (SpanHeap's last, so that they are drawn on top), then the legend beside the plot.
        List<Integer> drawingOrder = new ArrayList<>();
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < series.size(); i++) {
                if (series.get(i).emphasised() == (pass == 1)) {
                    drawingOrder.add(i);
                }
            }
        }
        for (int i : drawingOrder) {
            ChartSeries s = series.get(i);
            String colour = SvgText.colour(i);
            String dashes = SvgText.dashes(i);
            double stroke = s.emphasised() ? 3.2 : 1.8;
            svg.append(String.format(Locale.ROOT, "<g class=\"series\" data-series=\"%s\">%n", SvgText.escape(s.name())));
            StringBuilder points = new StringBuilder();
            for (double[] p : s.points()) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", left + x.fraction(p[0]) * (right - left),
                        bottom - y.fraction(p[1]) * (bottom - TOP)));
            }
            svg.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>%n",
                    points.toString().trim(), colour, stroke, dashes == null ? "" : " stroke-dasharray=\"" + dashes + "\""));
            for (double[] p : s.points()) {
                svg.append(String.format(Locale.ROOT,
                        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"><title>%s, %s: %s</title></circle>%n",
                        left + x.fraction(p[0]) * (right - left), bottom - y.fraction(p[1]) * (bottom - TOP),
                        s.emphasised() ? 4.5 : 3.5, colour, SvgText.escape(s.name()), SvgText.escape(xTicks.apply(p[0])),
                        SvgText.escape(yTicks.apply(p[1]))));
            }
            svg.append("</g>\n");
        }
        double legendX = right + 20;
        svg.append("<g class=\"legend\" font-size=\"13\" fill=\"#222\">\n");
        for (int i = 0; i < series.size(); i++) {
            ChartSeries s = series.get(i);
            double ly = TOP + 12 + i * LEGEND_ROW;
            String dashes = SvgText.dashes(i);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"%s/>%n",
                    legendX, ly, legendX + 28, ly, SvgText.colour(i), s.emphasised() ? 3.2 : 1.8,
                    dashes == null ? "" : " stroke-dasharray=\"" + dashes + "\""));
            svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>%n",
                    legendX + 14, ly, SvgText.colour(i)));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\"%s>%s</text>%n", legendX + 36, ly + 4.5,
                    s.emphasised() ? " font-weight=\"bold\"" : "", SvgText.escape(s.name())));
        }
        svg.append("</g>\n");
        svg.append("</svg>\n");
        return svg.toString();
    }
}
