package dev.spanheap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The SVG charts of a suite run ({@link Results}), drawn beside the tables {@link ResultRenderer}
 * writes: allocate+free time by block size and allocator, throughput against thread count for
 * every benchmark measured at more than one thread count, and peak RSS by workload.
 *
 * <p>The thread charts work on any JMH results: a row's thread count is its {@code threads}
 * parameter if it has one, else JMH's own {@code threads} field; its series is its
 * {@code allocator} parameter, else its method; its y value is operations per second over all
 * threads (a throughput score converted to seconds, or an average time per operation turned into
 * {@code threads / time}). One chart is drawn per benchmark class and combination of its other
 * parameters.
 */
final class BenchmarkCharts {

    static final String PAIR_CLASS = "AllocFreePairBenchmark";
    static final String MEMORY_SECTION = "memory";

    private final Results results;

    private BenchmarkCharts(Results results) {
        this.results = results;
    }

    /** Every chart the results have data for, pair chart first, then thread charts by class, then RSS. */
    static List<RenderedChart> of(Results results) {
        BenchmarkCharts charts = new BenchmarkCharts(results);
        List<RenderedChart> all = new ArrayList<>();
        charts.pairTime().ifPresent(all::add);
        all.addAll(charts.threadScaling());
        charts.peakRss().ifPresent(all::add);
        return all;
    }

    /** Writes {@code charts} into {@code directory} (created if missing). */
    static void write(List<RenderedChart> charts, Path directory) throws IOException {
        Files.createDirectories(directory);
        for (RenderedChart chart : charts) {
            Files.writeString(directory.resolve(chart.file()), chart.svg());
        }
    }

    // ---------------------------------------------------------------- pair time by size

    private Optional<RenderedChart> pairTime() {
        List<Results.Row> rows = rows(PAIR_CLASS);
        Set<String> methods = new LinkedHashSet<>(ResultRenderer.PAIR_COLUMNS.keySet());
        rows.stream().map(Results.Row::method).sorted().forEach(methods::add);
        List<ChartSeries> series = new ArrayList<>();
        for (String method : methods) {
            List<double[]> points = new ArrayList<>();
            rows.stream()
                    .filter(r -> r.method().equals(method) && r.param("size").matches("\\d+"))
                    .sorted(Comparator.comparingLong(r -> Long.parseLong(r.param("size"))))
                    .forEach(r -> {
                        double ns = nanosPerOperation(r);
                        double size = Long.parseLong(r.param("size"));
                        if (ns > 0 && points.stream().noneMatch(p -> p[0] == size)) {
                            points.add(new double[] {size, ns});
                        }
                    });
            if (!points.isEmpty()) {
                series.add(new ChartSeries(ResultRenderer.PAIR_COLUMNS.getOrDefault(method, method), points,
                        method.startsWith("spanheap")));
            }
        }
        if (series.isEmpty()) {
            return Optional.empty();
        }
        String title = "Allocate + free, one thread: time per pair by block size";
        String svg = new SvgLineChart(title, "JMH average time per allocation and free of one block; lower is better" + when(),
                "block size", "ns per allocate + free", v -> ResultRenderer.bytes((long) v), SvgText::nanos, series).render();
        return Optional.of(new RenderedChart("alloc-free-pair-time.svg", title, PAIR_CLASS, svg));
    }

    // ---------------------------------------------------------------- throughput by threads

    private List<RenderedChart> threadScaling() {
        Map<String, List<Results.Row>> groups = new TreeMap<>();
        for (Results.Row row : results.rows) {
            if (row.source().equals("gc") || row.className().equals(PAIR_CLASS) || threads(row) <= 0) {
                continue;
            }
            groups.computeIfAbsent(row.className() + otherParams(row), k -> new ArrayList<>()).add(row);
        }
        List<RenderedChart> charts = new ArrayList<>();
        for (List<Results.Row> group : groups.values()) {
            Set<Integer> threadCounts = new TreeSet<>();
            group.forEach(r -> threadCounts.add(threads(r)));
            if (threadCounts.size() < 2) {
                continue;
            }
            Map<String, TreeMap<Integer, Double>> bySeries = new LinkedHashMap<>();
            for (Results.Row row : group) {
                double rate = opsPerSecond(row);
                if (rate > 0) {
                    bySeries.computeIfAbsent(seriesName(row), k -> new TreeMap<>()).putIfAbsent(threads(row), rate);
                }
            }
            if (bySeries.isEmpty()) {
                continue;
            }
            List<String> names = new ArrayList<>(bySeries.keySet());
            names.sort(Comparator.comparingInt(BenchmarkCharts::allocatorOrder).thenComparing(Comparator.naturalOrder()));
            List<ChartSeries> series = new ArrayList<>();
            for (String name : names) {
                List<double[]> points = new ArrayList<>();
                bySeries.get(name).forEach((t, rate) -> points.add(new double[] {t, rate}));
                series.add(new ChartSeries(name, points, name.startsWith("spanheap")));
            }
            Results.Row first = group.getFirst();
            String params = otherParams(first);
            String shortName = first.className().replaceFirst("Benchmark$", "");
            String title = shortName + ": throughput by thread count" + (params.isEmpty() ? "" : " (" + params + ")");
            String file = "threads-" + (shortName + (params.isEmpty() ? "" : "-" + params))
                    .toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("-$", "") + ".svg";
            String svg = new SvgLineChart(title, "JMH, operations per second over all threads; higher is better" + when(),
                    "threads", "operations per second", v -> SvgText.number(v), SvgText::si, series).render();
            charts.add(new RenderedChart(file, title, first.className(), svg));
        }
        return charts;
    }

    /** The row's thread count: its {@code threads} parameter, else JMH's {@code threads}. */
    static int threads(Results.Row row) {
        String param = row.param("threads");
        if (param.matches("\\d+")) {
            return Integer.parseInt(param);
        }
        return row.threads();
    }

    private static String seriesName(Results.Row row) {
        String allocator = row.param("allocator");
        return allocator.isEmpty() ? row.method() : allocator;
    }

    /** The parameters other than the allocator and the thread count, as {@code size=64, order=LIFO}. */
    private static String otherParams(Results.Row row) {
        List<String> parts = new ArrayList<>();
        row.params().forEach((k, v) -> {
            if (!k.equals("allocator") && !k.equals("threads")) {
                parts.add(k + "=" + v);
            }
        });
        return String.join(", ", parts);
    }

    private static int allocatorOrder(String name) {
        int index = RawAllocator.NAMES.indexOf(name);
        return index >= 0 ? index : RawAllocator.NAMES.size();
    }

    /** Operations per second over all threads; NaN if the unit is not a throughput or a time per operation. */
    static double opsPerSecond(Results.Row row) {
        String[] unit = row.unit().split("/");
        if (unit.length != 2 || !(row.score() > 0)) {
            return Double.NaN;
        }
        if (unit[0].equals("ops")) {
            return row.score() / seconds(unit[1]);
        }
        if (unit[1].equals("op")) {
            return threads(row) / (row.score() * seconds(unit[0]));
        }
        return Double.NaN;
    }

    /** A time per operation in nanoseconds; NaN if the unit is not one. */
    static double nanosPerOperation(Results.Row row) {
        String[] unit = row.unit().split("/");
        if (unit.length != 2 || !unit[1].equals("op")) {
            return Double.NaN;
        }
        return row.score() * seconds(unit[0]) * 1e9;
    }

    /** Seconds in one of JMH's time units ({@code ns}, {@code us}, {@code ms}, {@code s}, {@code min}); NaN otherwise. */
    private static double seconds(String unit) {
        return switch (unit) {
            case "ns" -> 1e-9;
            case "us", "µs" -> 1e-6;
            case "ms" -> 1e-3;
            case "s" -> 1;
            case "min" -> 60;
            case "hr" -> 3600;
            default -> Double.NaN;
        };
    }

    // ---------------------------------------------------------------- peak RSS by workload

    private Optional<RenderedChart> peakRss() {
        if (results.memory.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Results.Memory> keys = new LinkedHashMap<>();
        results.memory.forEach(m -> keys.putIfAbsent(m.workload() + ", " + m.threads() + (m.threads() == 1 ? " thread" : " threads"), m));
        List<String> categories = new ArrayList<>(keys.keySet());
        List<String> allocators = new ArrayList<>();
        for (String name : RawAllocator.NAMES) {
            if (results.memory.stream().anyMatch(m -> m.allocator().equals(name))) {
                allocators.add(name);
            }
        }
        results.memory.stream().map(Results.Memory::allocator).filter(a -> !allocators.contains(a)).distinct().sorted()
                .forEach(allocators::add);
        double[][] peaks = new double[categories.size()][allocators.size()];
        double[][] starts = new double[categories.size()][allocators.size()];
        for (int c = 0; c < categories.size(); c++) {
            Results.Memory key = keys.get(categories.get(c));
            for (int a = 0; a < allocators.size(); a++) {
                Optional<Results.Memory> m = results.memory(key.workload(), allocators.get(a), key.threads());
                peaks[c][a] = m.map(x -> x.peakRss() / 1048576.0).orElse(Double.NaN);
                starts[c][a] = m.map(x -> x.startRss() / 1048576.0).orElse(Double.NaN);
            }
        }
        String title = "Peak resident set by workload";
        String svg = new SvgBarChart(title,
                "VmHWM of the benchmark's JVM, reset at the trial's start (so it includes the JVM itself)" + when(),
                "peak RSS (MiB)", SvgText::number, v -> String.format(Locale.ROOT, "%.1f", v), categories, allocators, peaks, starts).render();
        return Optional.of(new RenderedChart("peak-rss.svg", title, MEMORY_SECTION, svg));
    }

    /** {@code "; run of 2026-11-25"} from the environment's date, or nothing. */
    private String when() {
        Object date = results.environment.get("date");
        if (date instanceof String text && text.length() >= 10) {
            return "; run of " + text.substring(0, 10);
        }
        return "";
    }

    private List<Results.Row> rows(String className) {
        return results.rows.stream().filter(r -> r.className().equals(className) && !r.source().equals("gc")).toList();
    }
}
