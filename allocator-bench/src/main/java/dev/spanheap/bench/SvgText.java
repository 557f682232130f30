package dev.spanheap.bench;

import java.util.List;
import java.util.Locale;

/**
 * What the tool's SVG charts share: the font, the series colours and dash patterns, the escaping
 * of text for XML, a rough width of a text for layout, and the number formats of tick labels.
 */
final class SvgText {

    static final String FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";

    /** Distinct colours; after the first ten, lines are also dashed so that no two series look alike. */
    private static final List<String> COLOURS = List.of("#1f5fa8", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
            "#8c564b", "#e377c2", "#555555", "#a8a800", "#17becf", "#0b2f6b", "#6b8e23", "#c06000");

    private SvgText() {
    }

    static String colour(int index) {
        return COLOURS.get(index % COLOURS.size());
    }

    /** A stroke-dasharray for the series at {@code index}, or null for a solid line. */
    static String dashes(int index) {
        return index < 10 ? null : "7 4";
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** About how wide {@code text} is at {@code fontSize} pixels in a sans-serif font (a little generous). */
    static double width(String text, double fontSize) {
        return text.length() * fontSize * 0.6;
    }

    /** A number for a tick label: no needless decimals, thousands separated. */
    static String number(double value) {
        if (value == Math.rint(value)) {
            return String.format(Locale.ROOT, "%,d", (long) value);
        }
        String text = String.format(Locale.ROOT, "%.3f", value);
        return text.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    /** A time in nanoseconds as {@code 50 ns}, {@code 2 µs}, {@code 10 ms}. */
    static String nanos(double ns) {
        if (ns >= 1e6) {
            return number(ns / 1e6) + " ms";
        }
        if (ns >= 1e3) {
            return number(ns / 1e3) + " µs";
        }
        return number(ns) + " ns";
    }

    /** A rate with an SI prefix: {@code 500}, {@code 20 k}, {@code 40 M}, {@code 1.5 G}. */
    static String si(double value) {
        double magnitude = Math.abs(value);
        if (magnitude >= 1e9) {
            return number(value / 1e9) + " G";
        }
        if (magnitude >= 1e6) {
            return number(value / 1e6) + " M";
        }
        if (magnitude >= 1e3) {
            return number(value / 1e3) + " k";
        }
        return number(value);
    }
}
