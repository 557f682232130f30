package dev.spanheap.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The scale of one chart axis: linear or logarithmic, its range and its tick values, and where a
 * value falls on it as a fraction of the axis length.
 */
final class ChartAxis {

    /** Data whose largest value is this many times its smallest (or more) is drawn on a log scale. */
    static final double LOG_SCALE_SPAN = 20;

    final boolean log;
    final double low;
    final double high;
    final List<Double> ticks;

    private ChartAxis(boolean log, double low, double high, List<Double> ticks) {
        this.log = log;
        this.low = low;
        this.high = high;
        this.ticks = List.copyOf(ticks);
    }

    /** A log scale when the data spans {@link #LOG_SCALE_SPAN} times or more, else a linear one from zero. */
    static ChartAxis forValues(double min, double max) {
        if (min > 0 && max / min >= LOG_SCALE_SPAN) {
            return logarithmic(min, max);
        }
        return linearFromZero(max);
    }

    /** Whole decades around [min, max], ticks at each decade (and at 2 and 5 times it when there are few decades). */
    static ChartAxis logarithmic(double min, double max) {
        int first = (int) Math.floor(Math.log10(min));
        int last = (int) Math.ceil(Math.log10(max));
        if (last == first) {
            last++;
        }
        List<Double> ticks = new ArrayList<>();
        boolean fine = last - first <= 2;
        for (int decade = first; decade <= last; decade++) {
            double base = Math.pow(10, decade);
            ticks.add(base);
            if (fine && decade < last) {
                ticks.add(2 * base);
                ticks.add(5 * base);
            }
        }
        return new ChartAxis(true, Math.pow(10, first), Math.pow(10, last), ticks);
    }

    /** From zero to a round number at or above {@code max}, with 4 to 10 ticks at 1, 2 or 5 times a power of ten. */
    static ChartAxis linearFromZero(double max) {
        double top = max > 0 ? max : 1;
        double step = niceStep(top / 6);
        double high = Math.ceil(top / step - 1e-9) * step;
        List<Double> ticks = new ArrayList<>();
        for (int i = 0; i * step <= high + step / 1000; i++) {
            ticks.add(i * step);
        }
        return new ChartAxis(false, 0, high, ticks);
    }

    /**
     * A log scale through exactly the given values (x positions of a chart with few distinct x
     * values, such as sizes or thread counts), padded by a share of a step on both sides.
     */
    static ChartAxis logThrough(List<Double> values) {
        double min = values.getFirst();
        double max = values.getLast();
        double span = max > min ? Math.log(max / min) : Math.log(2);
        double pad = Math.exp(span * 0.05);
        return new ChartAxis(true, min / pad, max * pad, values);
    }

    private static double niceStep(double rough) {
        double power = Math.pow(10, Math.floor(Math.log10(rough)));
        double mantissa = rough / power;
        if (mantissa <= 1) {
            return power;
        }
        if (mantissa <= 2) {
            return 2 * power;
        }
        if (mantissa <= 5) {
            return 5 * power;
        }
        return 10 * power;
    }

    /** Where {@code value} lies between {@link #low} (0) and {@link #high} (1). */
    double fraction(double value) {
        if (log) {
            return (Math.log(value) - Math.log(low)) / (Math.log(high) - Math.log(low));
        }
        return (value - low) / (high - low);
    }
}
