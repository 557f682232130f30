package dev.spanheap.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Turns a suite run ({@link Results}) into the markdown tables of {@code docs/benchmarks.md}:
 * scores side by side, ratios to glibc malloc, the targets marked met or missed, and the memory
 * figures. Every number comes from the JMH files and the memory log; nothing is typed in.
 */
final class ResultRenderer {

    /** Pair benchmark methods in table order, with their labels. */
    static final Map<String, String> PAIR_COLUMNS = orderedMap(
            "spanheapAddress", "SpanHeap allocateAddress/freeAddress",
            "spanheapUninitialized", "SpanHeap allocateUninitialized/free",
            "spanheapAllocate", "SpanHeap allocate (zeroed)/free",
            "malloc", "glibc malloc/free (plain downcall)",
            "mallocCritical", "glibc malloc/free (critical downcall)",
            "calloc", "glibc calloc/free (plain downcall)",
            "mimalloc", "mimalloc (critical)",
            "tcmalloc", "tcmalloc (critical)",
            "jemalloc", "jemalloc (critical, LD_PRELOAD)",
            "arenaConfined", "Arena.ofConfined() + allocate + close",
            "arenaShared", "Arena.ofShared() + allocate + close",
            "nettyPooled", "Netty PooledByteBufAllocator direct",
            "nettyAdaptive", "Netty AdaptiveByteBufAllocator direct");

    static final long LARGEST_SMALL_SIZE = 32768;

    private final Results results;
    private final List<RenderedChart> charts;
    private final String chartPrefix;
    private final Set<RenderedChart> placed = new LinkedHashSet<>();
    private final StringBuilder out = new StringBuilder();

    ResultRenderer(Results results, List<RenderedChart> charts, String chartPrefix) {
        this.results = results;
        this.charts = List.copyOf(charts);
        this.chartPrefix = chartPrefix;
    }

    /**
     * The tables, each followed by a markdown image link to its charts; {@code chartPrefix} is
     * the path from the markdown's directory to the charts' (such as {@code charts/}). Charts of
     * benchmarks without a table of their own come last.
     */
    static String render(Results results, List<RenderedChart> charts, String chartPrefix) {
        return new ResultRenderer(results, charts, chartPrefix).renderAll();
    }

    private String renderAll() {
        environment();
        pairs();
        batches();
        scaling("MixedSizesBenchmark", "Mixed realistic sizes, steady state (ops/µs, higher is better)",
                "Each operation frees a random one of 4096 live blocks per thread and allocates a replacement "
                        + "with a size from the mix in SizeDistribution. Target: SpanHeap with 2 threads at least 1.7 times its 1-thread throughput.");
        serverWorkload("larson", "LarsonBenchmark", "twoThreads", 2,
                "Larson (our port; 5000 blocks of 8-1000 B per set, sets exchanged between threads every 5000 replacements)");
        serverWorkload("xmalloc-test", "XmallocTestBenchmark", "xmallocTest", 2,
                "xmalloc-test (our port; 1 allocating + 1 freeing thread, 64-byte blocks in batches of 100)");
        chartsOf(BenchmarkCharts.MEMORY_SECTION);
        producerConsumer();
        scaling("CacheScratchBenchmark", "cache-scratch (our port; passive false sharing, ops/µs, higher is better)",
                "One operation allocates an 8-byte block, writes each byte 50 times and frees it. Good scaling from 1 to 2 threads means no false sharing between the threads' blocks.");
        garbage();
        others();
        remainingCharts();
        return out.toString();
    }

    // ---------------------------------------------------------------- sections

    private void environment() {
        Map<String, Object> env = results.environment;
        if (!env.isEmpty()) {
            line("| | |");
            line("|---|---|");
            for (String key : List.of("jdk", "cpu", "cpus", "kernel", "glibc", "date", "selection", "settings")) {
                if (env.containsKey(key)) {
                    line("| " + key + " | " + whole(env.get(key)) + " |");
                }
            }
            line("");
        }
        Map<String, String> skipped = results.skipped();
        if (!skipped.isEmpty()) {
            line("Baselines skipped on this machine:");
            skipped.forEach((name, reason) -> line("- " + name + ": " + reason));
            line("");
        }
    }

    private void pairs() {
        List<String> sizes = distinctParam("AllocFreePairBenchmark", "size");
        if (sizes.isEmpty()) {
            return;
        }
        heading("Allocate + free, one thread (ns/op, lower is better)");
        line("One allocation and one free of the same size per operation; JMH average time. "
                + "Native baselines are called with `long` addresses, no segments.");
        line("");
        StringBuilder header = new StringBuilder("| allocator |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String size : sizes) {
            header.append(' ').append(bytes(Long.parseLong(size))).append(" |");
            rule.append("---:|");
        }
        line(header.toString());
        line(rule.toString());
        for (Map.Entry<String, String> column : PAIR_COLUMNS.entrySet()) {
            StringBuilder row = new StringBuilder("| " + column.getValue() + " |");
            boolean any = false;
            for (String size : sizes) {
                Optional<Results.Row> r = results.find("AllocFreePairBenchmark." + column.getKey(), Map.of("size", size));
                any |= r.isPresent();
                row.append(' ').append(r.map(x -> scoreWithError(x)).orElse("")).append(" |");
            }
            String skip = results.skipped().get(column.getKey());
            if (skip != null) {
                line("| " + column.getValue() + " | " + skip + " |" + " |".repeat(sizes.size() - 1));
            } else if (any) {
                line(row.toString());
            }
        }
        line("");
        chartsOf(BenchmarkCharts.PAIR_CLASS);
        heading("Ratios and targets (allocate + free, one thread)");
        line("SpanHeap's time divided by the baseline's; below 1 is faster. Targets apply up to 32 KiB.");
        line("");
        line("| size | allocateAddress / malloc (target <= 0.35) | allocateAddress / best of mimalloc, tcmalloc, jemalloc (target <= 1.0) | allocateUninitialized / malloc (target <= 0.6) | allocate / calloc (target <= 0.6) | allocateAddress / malloc critical |");
        line("|---|---:|---:|---:|---:|---:|");
        for (String size : sizes) {
            boolean targeted = Long.parseLong(size) <= LARGEST_SMALL_SIZE;
            Map<String, String> p = Map.of("size", size);
            Double address = score("AllocFreePairBenchmark.spanheapAddress", p);
            Double best = min(score("AllocFreePairBenchmark.mimalloc", p), score("AllocFreePairBenchmark.tcmalloc", p),
                    score("AllocFreePairBenchmark.jemalloc", p));
            line("| " + bytes(Long.parseLong(size))
                    + " | " + ratio(address, score("AllocFreePairBenchmark.malloc", p), targeted ? 0.35 : 0)
                    + " | " + ratio(address, best, targeted ? 1.0 : 0)
                    + " | " + ratio(score("AllocFreePairBenchmark.spanheapUninitialized", p), score("AllocFreePairBenchmark.malloc", p), targeted ? 0.6 : 0)
                    + " | " + ratio(score("AllocFreePairBenchmark.spanheapAllocate", p), score("AllocFreePairBenchmark.calloc", p), targeted ? 0.6 : 0)
                    + " | " + ratio(address, score("AllocFreePairBenchmark.mallocCritical", p), 0) + " |");
        }
        line("");
    }

    private void batches() {
        List<Results.Row> rows = rowsOf("BatchFreeOrderBenchmark");
        if (rows.isEmpty()) {
            return;
        }
        heading("Batches: allocate 1000, then free in LIFO, FIFO or random order (ns per allocate+free, lower is better)");
        List<String> allocators = allocatorsOf(rows);
        if (!results.skipped().isEmpty()) {
            line("Skipped here: " + String.join(", ", results.skipped().keySet()) + " (see the top of the page).");
            line("");
        }
        line("| size | order | " + String.join(" | ", allocators) + " | SpanHeap / malloc |");
        line("|---|---|" + "---:|".repeat(allocators.size() + 1));
        for (String size : distinctParam("BatchFreeOrderBenchmark", "size")) {
            for (String order : List.of("LIFO", "FIFO", "RANDOM")) {
                StringBuilder row = new StringBuilder("| " + bytes(Long.parseLong(size)) + " | " + order + " |");
                for (String allocator : allocators) {
                    row.append(' ').append(results.find("BatchFreeOrderBenchmark.batch",
                            Map.of("size", size, "order", order, "allocator", allocator)).map(this::scoreWithError).orElse("")).append(" |");
                }
                Map<String, String> p = Map.of("size", size, "order", order);
                row.append(' ').append(ratio(score("BatchFreeOrderBenchmark.batch", with(p, "allocator", "spanheap")),
                        score("BatchFreeOrderBenchmark.batch", with(p, "allocator", "malloc")), 0)).append(" |");
                line(row.toString());
            }
        }
        line("");
    }

    private void scaling(String className, String title, String description) {
        List<Results.Row> rows = rowsOf(className);
        if (rows.isEmpty()) {
            return;
        }
        heading(title);
        line(description);
        line("");
        line("| allocator | 1 thread | 2 threads | 2 threads / 1 thread | 2 threads / malloc |");
        line("|---|---:|---:|---:|---:|");
        Double malloc2 = score(className + ".twoThreads", Map.of("allocator", "malloc"));
        for (String allocator : allocatorsOf(rows)) {
            Double one = score(className + ".oneThread", Map.of("allocator", allocator));
            Double two = score(className + ".twoThreads", Map.of("allocator", allocator));
            line("| " + allocator + " | " + number(one) + " | " + number(two) + " | "
                    + ratio(two, one, allocator.equals("spanheap") && className.equals("MixedSizesBenchmark") ? -1.7 : 0)
                    + " | " + ratio(two, malloc2, 0) + " |");
        }
        skippedRows(4);
        line("");
        chartsOf(className);
    }

    private void serverWorkload(String workload, String className, String method, int threads, String title) {
        List<Results.Row> rows = rowsOf(className);
        if (rows.isEmpty()) {
            return;
        }
        heading(title);
        line("Throughput in ops/µs (higher is better). Peak RSS is VmHWM after the peak was reset at the trial's start "
                + "(so it includes the JVM, about the same for every allocator); growth is peak minus the RSS at the start. "
                + "Held is the allocator's own figure for memory held from the OS with the live set still allocated "
                + "(for glibc and jemalloc it includes the JVM's own mallocs). Targets: SpanHeap throughput >= glibc malloc, "
                + "peak RSS growth <= 1.25 x glibc's.");
        line("");
        boolean hasOneThread = results.rows.stream().anyMatch(r -> r.benchmark().equals(className + ".oneThread"));
        line("| allocator |" + (hasOneThread ? " 1 thread |" : "") + " " + threads + " threads | vs malloc (target >= 1.0) | peak RSS | peak growth | growth vs malloc (target <= 1.25) | final RSS | held | live |");
        line("|---|" + (hasOneThread ? "---:|" : "") + "---:|---:|---:|---:|---:|---:|---:|---:|");
        Double mallocScore = score(className + "." + method, Map.of("allocator", "malloc"));
        Optional<Results.Memory> mallocMemory = results.memory(workload, "malloc", threads);
        for (String allocator : allocatorsOf(rows)) {
            Double score = score(className + "." + method, Map.of("allocator", allocator));
            Optional<Results.Memory> memory = results.memory(workload, allocator, threads);
            boolean isSpanHeap = allocator.equals("spanheap");
            StringBuilder row = new StringBuilder("| " + allocator + " |");
            if (hasOneThread) {
                row.append(' ').append(number(score(className + ".oneThread", Map.of("allocator", allocator)))).append(" |");
            }
            row.append(' ').append(number(score)).append(" | ").append(ratio(score, mallocScore, isSpanHeap ? -1.0 : 0)).append(" | ");
            row.append(memory.map(m -> mib(m.peakRss())).orElse("")).append(" | ");
            row.append(memory.map(m -> mib(m.peakGrowth())).orElse("")).append(" | ");
            Double growth = memory.map(m -> (double) m.peakGrowth()).orElse(null);
            Double mallocGrowth = mallocMemory.map(m -> (double) m.peakGrowth()).orElse(null);
            row.append(ratio(growth, mallocGrowth, isSpanHeap ? 1.25 : 0)).append(" | ");
            row.append(memory.map(m -> mib(m.finalRss())).orElse("")).append(" | ");
            row.append(memory.map(m -> m.heldBeforeFree() < 0 ? "n/a" : mib(m.heldBeforeFree())).orElse("")).append(" | ");
            row.append(memory.map(m -> mib(m.liveBytes())).orElse("")).append(" |");
            line(row.toString());
        }
        skippedRows(hasOneThread ? 9 : 8);
        line("");
        chartsOf(className);
    }

    private void producerConsumer() {
        List<Results.Row> rows = rowsOf("ProducerConsumerBenchmark");
        if (rows.isEmpty()) {
            return;
        }
        heading("Producer/consumer: every block freed by another thread (allocations + frees per µs, higher is better)");
        List<String> sizes = distinctParam("ProducerConsumerBenchmark", "size");
        line("| allocator | " + String.join(" | ", sizes.stream().map(s -> bytes(Long.parseLong(s))).toList()) + " |");
        line("|---|" + "---:|".repeat(sizes.size()));
        for (String allocator : allocatorsOf(rows)) {
            StringBuilder row = new StringBuilder("| " + allocator + " |");
            for (String size : sizes) {
                row.append(' ').append(number(score("ProducerConsumerBenchmark.producerConsumer",
                        Map.of("allocator", allocator, "size", size)))).append(" |");
            }
            line(row.toString());
        }
        skippedRows(sizes.size());
        line("");
    }

    private void garbage() {
        List<Results.Row> gc = results.rows.stream().filter(r -> r.source().equals("gc")).toList();
        if (gc.isEmpty()) {
            return;
        }
        heading("Java garbage per operation (`-prof gc`, gc.alloc.rate.norm, bytes/op)");
        List<String> sizes = gc.stream().map(r -> r.param("size")).distinct().toList();
        line("| method | " + String.join(" | ", sizes.stream().map(s -> bytes(Long.parseLong(s))).toList()) + " |");
        line("|---|" + "---:|".repeat(sizes.size()));
        for (String method : gc.stream().map(Results.Row::method).distinct().toList()) {
            StringBuilder row = new StringBuilder("| " + method + " |");
            for (String size : sizes) {
                row.append(' ').append(results.findGc("AllocFreePairBenchmark." + method, Map.of("size", size))
                        .map(r -> number(r.secondary().get("gc.alloc.rate.norm"))).orElse("")).append(" |");
            }
            line(row.toString());
        }
        line("");
    }

    private void others() {
        Set<String> known = Set.of("AllocFreePairBenchmark", "BatchFreeOrderBenchmark", "MixedSizesBenchmark",
                "LarsonBenchmark", "XmallocTestBenchmark", "ProducerConsumerBenchmark", "CacheScratchBenchmark");
        List<Results.Row> rows = results.rows.stream()
                .filter(r -> !known.contains(r.className()) && !r.source().equals("gc")).toList();
        if (rows.isEmpty()) {
            return;
        }
        heading("Other benchmarks in the jar");
        line("| benchmark | parameters | threads | score | unit |");
        line("|---|---|---:|---:|---|");
        for (Results.Row r : rows) {
            line("| " + r.benchmark() + " | " + r.params() + " | " + r.threads() + " | " + scoreWithError(r) + " | " + r.unit() + " |");
        }
        line("");
        rows.stream().map(Results.Row::className).distinct().forEach(this::chartsOf);
    }

    private void remainingCharts() {
        List<RenderedChart> rest = charts.stream().filter(c -> !placed.contains(c)).toList();
        if (rest.isEmpty()) {
            return;
        }
        heading("Charts of the other benchmarks");
        rest.forEach(this::chart);
    }

    // ---------------------------------------------------------------- helpers

    /** Links the charts of {@code section} that are not linked yet. */
    private void chartsOf(String section) {
        charts.stream().filter(c -> c.section().equals(section) && !placed.contains(c)).toList().forEach(this::chart);
    }

    private void chart(RenderedChart chart) {
        placed.add(chart);
        line("![" + chart.title() + "](" + chartPrefix + chart.file() + ")");
        line("");
    }

    /** A row per skipped baseline, so a missing allocator is seen, not silently dropped. */
    private void skippedRows(int columns) {
        results.skipped().forEach((name, reason) -> line("| " + name + " | " + reason + " |" + " |".repeat(Math.max(0, columns - 1))));
    }

    private List<Results.Row> rowsOf(String className) {
        return results.rows.stream().filter(r -> r.className().equals(className) && !r.source().equals("gc")).toList();
    }

    private List<String> allocatorsOf(List<Results.Row> rows) {
        Set<String> present = new LinkedHashSet<>();
        for (String name : RawAllocator.NAMES) {
            if (rows.stream().anyMatch(r -> r.param("allocator").equals(name))) {
                present.add(name);
            }
        }
        return new ArrayList<>(present);
    }

    private List<String> distinctParam(String className, String param) {
        return results.rows.stream()
                .filter(r -> r.className().equals(className) && !r.param(param).isEmpty())
                .map(r -> r.param(param)).distinct()
                .sorted((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)))
                .toList();
    }

    private Double score(String benchmark, Map<String, String> params) {
        return results.find(benchmark, params).map(Results.Row::score).orElse(null);
    }

    private static Map<String, String> with(Map<String, String> params, String key, String value) {
        Map<String, String> copy = new java.util.HashMap<>(params);
        copy.put(key, value);
        return copy;
    }

    private static Double min(Double... values) {
        Double best = null;
        for (Double v : values) {
            if (v != null && (best == null || v < best)) {
                best = v;
            }
        }
        return best;
    }

    /**
     * {@code a / b}, with "met"/"MISSED" for a target: a positive target is an upper bound, a
     * negative one a lower bound (its absolute value), zero means none.
     */
    static String ratio(Double a, Double b, double target) {
        if (a == null || b == null || b == 0 || a.isNaN() || b.isNaN()) {
            return "";
        }
        double r = a / b;
        String text = String.format(Locale.ROOT, "%.2f", r);
        if (target > 0) {
            text += r <= target ? " met" : " **MISSED**";
        } else if (target < 0) {
            text += r >= -target ? " met" : " **MISSED**";
        }
        return text;
    }

    /** A value from a JSON file as text: whole numbers without ".0", maps and lists compact. */
    static String whole(Object value) {
        if (value instanceof Double d && d == Math.rint(d) && !d.isInfinite()) {
            return Long.toString(d.longValue());
        }
        String text = value instanceof String s ? s : ToolJson.write(value).replace("\"", "");
        return text.replace("|", "\\|");
    }

    static String number(Double value) {
        if (value == null || value.isNaN()) {
            return "";
        }
        double v = value;
        if (v >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (v >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private String scoreWithError(Results.Row r) {
        String score = number(r.score());
        return Double.isNaN(r.error()) ? score : score + " ± " + number(r.error());
    }

    static String bytes(long bytes) {
        if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1024 && bytes % 1024 == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " B";
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private void heading(String title) {
        line("### " + title);
        line("");
    }

    private void line(String text) {
        out.append(text).append('\n');
    }

    @SuppressWarnings("unchecked")
    private static <V> Map<String, V> orderedMap(Object... keysAndValues) {
        Map<String, V> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], (V) keysAndValues[i + 1]);
        }
        return map;
    }

    static <T> String join(List<T> items, Function<T, String> show) {
        return String.join(", ", items.stream().map(show).toList());
    }
}
