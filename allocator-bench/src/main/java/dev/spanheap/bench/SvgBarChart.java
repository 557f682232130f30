package dev.spanheap.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * A grouped bar chart written as SVG text: one group of bars per category (a workload), one bar
 * per series (an allocator) in the same colour in every group, a linear y axis from zero, tick
 * labels, the value above each bar, and a legend. A bar may show a base part (drawn lighter) below
 * its total, such as the resident set a trial started with under its peak. Each series is a
 * {@code <g class="series">} holding one {@code <rect class="bar">} per category it has a value in.
 */
final class SvgBarChart {

    private static final int WIDTH = 980;
    private static final int HEIGHT = 540;
    private static final int TOP = 78;
    private static final int BOTTOM_MARGIN = 72;
    private static final int LEGEND_ROW = 22;
    private static final double TICK_FONT = 13;
    private static final String BASE_LEGEND = "lighter: at the trial's start";
    private static final String TOP_LEGEND = "darker: growth to the peak";

    private final String title;
    private final String subtitle;
    private final String yLabel;
    private final DoubleFunction<String> yTicks;
    private final DoubleFunction<String> barLabels;
    private final List<String> categories;
    private final List<String> series;
    private final double[][] totals;
    private final double[][] bases;

    /**
     * {@code totals[category][series]} is a bar's height (NaN: no bar); {@code bases} has the same
     * shape and gives the lighter lower part of each bar, or is null for plain bars.
     */
    SvgBarChart(String title, String subtitle, String yLabel, DoubleFunction<String> yTicks, DoubleFunction<String> barLabels,
                List<String> categories, List<String> series, double[][] totals, double[][] bases) {
        if (categories.isEmpty() || series.isEmpty()) {
            throw new IllegalArgumentException("a bar chart needs categories and series: " + title);
        }
        this.title = title;
        this.subtitle = subtitle;
        this.yLabel = yLabel;
        this.yTicks = yTicks;
        this.barLabels = barLabels;
        this.categories = List.copyOf(categories);
        this.series = List.copyOf(series);
        this.totals = totals;
        this.bases = bases;
    }

    String render() {
        double max = 0;
        for (double[] row : totals) {
            for (double v : row) {
                if (!Double.isNaN(v)) {
                    max = Math.max(max, v);
                }
            }
        }
        ChartAxis y = ChartAxis.linearFromZero(max * 1.06);
        double tickWidth = y.ticks.stream().mapToDouble(t -> SvgText.width(yTicks.apply(t), TICK_FONT)).max().orElse(0);
        double left = 44 + tickWidth;
        List<String> legendTexts = new ArrayList<>(series);
        if (bases != null) {
            legendTexts.addAll(List.of(BASE_LEGEND, TOP_LEGEND));
        }
        double legendWidth = 56 + legendTexts.stream().mapToDouble(s -> SvgText.width(s, 13)).max().orElse(0);
        double right = WIDTH - legendWidth - 24;
        int height = Math.max(HEIGHT, TOP + (series.size() + 3) * LEGEND_ROW + BOTTOM_MARGIN);
        double bottom = height - BOTTOM_MARGIN;
        double groupWidth = (right - left) / categories.size();
        double barWidth = groupWidth * 0.82 / series.size();
        boolean rotateLabels = barWidth < 34;

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
        svg.append("<g class=\"y-axis\" font-size=\"13\" fill=\"#333\">\n");
        for (double tick : y.ticks) {
            double py = bottom - y.fraction(tick) * (bottom - TOP);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>%n",
                    left, py, right, py));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    left - 8, py + 4.5, SvgText.escape(yTicks.apply(tick))));
        }
        svg.append("</g>\n");
        svg.append("<g class=\"x-axis\" font-size=\"14\" fill=\"#222\">\n");
        for (int c = 0; c < categories.size(); c++) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n",
                    left + (c + 0.5) * groupWidth, bottom + 24, SvgText.escape(categories.get(c))));
        }
        svg.append("</g>\n");
        for (int s = 0; s < series.size(); s++) {
            String colour = SvgText.colour(s);
            svg.append(String.format(Locale.ROOT, "<g class=\"series\" data-series=\"%s\">%n", SvgText.escape(series.get(s))));
            for (int c = 0; c < categories.size(); c++) {
                double total = totals[c][s];
                if (Double.isNaN(total)) {
                    continue;
                }
                double bx = left + c * groupWidth + groupWidth * 0.09 + s * barWidth;
                double top = bottom - y.fraction(total) * (bottom - TOP);
                svg.append(String.format(Locale.ROOT,
                        "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s, %s: %s</title></rect>%n",
                        bx + 1, top, barWidth - 2, bottom - top, colour, SvgText.escape(series.get(s)),
                        SvgText.escape(categories.get(c)), SvgText.escape(barLabels.apply(total))));
                if (bases != null && !Double.isNaN(bases[c][s])) {
                    double baseTop = bottom - y.fraction(bases[c][s]) * (bottom - TOP);
                    svg.append(String.format(Locale.ROOT,
                            "<rect class=\"base\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" fill-opacity=\"0.6\"/>%n",
                            bx + 1, baseTop, barWidth - 2, bottom - baseTop));
                }
                String label = SvgText.escape(barLabels.apply(total));
                if (rotateLabels) {
                    double lx = bx + barWidth / 2 + 4;
                    double ly = top - 6;
                    svg.append(String.format(Locale.ROOT,
                            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#222\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>%n",
                            lx, ly, lx, ly, label));
                } else {
                    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\" fill=\"#222\">%s</text>%n",
                            bx + barWidth / 2, top - 5, label));
                }
            }
            svg.append("</g>\n");
        }
        svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>%n",
                left, TOP, right - left, bottom - TOP));
        double yLabelX = 20;
        double yLabelY = (TOP + bottom) / 2;
        svg.append(String.format(Locale.ROOT,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\" fill=\"#222\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>%n",
                yLabelX, yLabelY, yLabelX, yLabelY, SvgText.escape(yLabel)));
        double legendX = right + 20;
        svg.append("<g class=\"legend\" font-size=\"13\" fill=\"#222\">\n");
        for (int s = 0; s < series.size(); s++) {
            double ly = TOP + 12 + s * LEGEND_ROW;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"12\" fill=\"%s\"/>%n",
                    legendX, ly - 6, SvgText.colour(s)));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", legendX + 32, ly + 4.5,
                    SvgText.escape(series.get(s))));
        }
        if (bases != null) {
            double ly = TOP + 12 + (series.size() + 1) * LEGEND_ROW;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"12\" fill=\"#555\"/>%n", legendX, ly - 6));
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"12\" fill=\"white\" fill-opacity=\"0.6\"/>%n",
                    legendX, ly - 6));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", legendX + 32, ly + 4.5, BASE_LEGEND));
            ly += LEGEND_ROW;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"12\" fill=\"#555\"/>%n", legendX, ly - 6));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", legendX + 32, ly + 4.5, TOP_LEGEND));
        }
        svg.append("</g>\n");
        svg.append("</svg>\n");
        return svg.toString();
    }
}
