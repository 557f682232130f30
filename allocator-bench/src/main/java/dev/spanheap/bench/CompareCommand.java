package dev.spanheap.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code spanheap compare}: a short side-by-side run (about a minute) of SpanHeap against every
 * baseline available, on allocate+free pairs and the larson and xmalloc-test workloads, printed as
 * a table of ns/op, ratios to glibc malloc and RSS. It runs the real JMH benchmarks with very short
 * settings, so it is a quick view: the numbers of {@code docs/benchmarks.md} come from the full
 * suite ({@code spanheap bench}).
 */
@Command(name = "compare",
        header = "a one-minute side-by-side of SpanHeap and the baselines (ns/op, ratios, RSS)",
        customSynopsis = "spanheap compare [--json] [--quick] [--keep DIR]",
        description = {
                "Runs SpanHeap and every baseline found on this machine (glibc malloc through plain and critical",
                "downcalls, calloc, mimalloc, tcmalloc, jemalloc, Arena.ofConfined, Netty) on allocate+free of",
                "64 B and 4 KiB, and on the larson and xmalloc-test workloads with 2 threads, then prints ns/op,",
                "ratios to glibc malloc, throughput and peak RSS. Takes about a minute. The figures are a quick",
                "view from very short JMH runs; docs/benchmarks.md has the full suite's."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        sortOptions = false)
final class CompareCommand implements ToolCommand {

    private static final String NOTE = "quick view: JMH with 1 fork, 1 x 200 ms warm-up, 2 x 200 ms measurement per benchmark;"
            + " for claims use the full suite (spanheap bench, docs/benchmarks.md)";
    private static final String QUICK_NOTE = "smoke run (--quick): 1 fork, 50 ms warm-up, 100 ms measurement; the numbers mean little";

    private static final List<String> PAIR_METHODS = List.of("spanheapAddress", "spanheapUninitialized", "spanheapAllocate",
            "malloc", "mallocCritical", "calloc", "mimalloc", "tcmalloc", "jemalloc", "arenaConfined", "nettyAdaptive", "nettyPooled");

    @Option(names = "--json", description = "print the results as JSON instead of tables")
    private boolean json;

    @Option(names = "--quick", description = "a few seconds: SpanHeap's raw path and malloc at 64 B only (for tests)")
    private boolean quick;

    @Option(names = "--keep", paramLabel = "DIR",
            description = "keep the raw JMH results in DIR (default: a temporary directory, deleted)")
    private Path keep;

    @Mixin
    private HelpOption help;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Path directory = keep != null ? keep : Files.createTempDirectory("spanheap-compare");
        try {
            SuiteRunner.Settings settings = quick
                    ? new SuiteRunner.Settings(1, 1, TimeValue.milliseconds(50), 1, TimeValue.milliseconds(100), false)
                    : new SuiteRunner.Settings(1, 1, TimeValue.milliseconds(200), 2, TimeValue.milliseconds(200), false);
            Pattern selection = quick
                    ? Pattern.compile("^AllocFreePairBenchmark\\.(spanheapAddress|malloc)$")
                    : Pattern.compile("^AllocFreePairBenchmark\\.(" + String.join("|", PAIR_METHODS) + ")$"
                            + "|^LarsonBenchmark\\.twoThreads$|^XmallocTestBenchmark\\.");
            SuiteRunner runner = new SuiteRunner(settings, directory, err, VerboseMode.SILENT)
                    .param("size", quick ? "64" : "64,4096");
            err.println("spanheap compare: running " + SuiteRunner.benchmarks(selection).size()
                    + " benchmarks, each in its own JVM (" + (quick ? "a few seconds" : "about a minute") + ") ...");
            runner.run(selection);
            Results results = Results.load(directory);
            if (json) {
                out.println(ToolJson.write(toJson(results, quick)));
            } else {
                printTables(results, quick, out);
            }
            return 0;
        } finally {
            if (keep == null) {
                deleteRecursively(directory);
            }
        }
    }

    private static Map<String, Object> toJson(Results results, boolean quick) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("note", quick ? QUICK_NOTE : NOTE);
        root.put("environment", results.environment);
        List<Object> pairs = new ArrayList<>();
        for (String size : sizes(results)) {
            Double malloc = score(results, "AllocFreePairBenchmark.malloc", Map.of("size", size));
            for (String method : PAIR_METHODS) {
                Optional<Results.Row> row = results.find("AllocFreePairBenchmark." + method, Map.of("size", size));
                if (row.isPresent()) {
                    Map<String, Object> entry = new LinkedHashMap<>();
                    entry.put("allocator", method);
                    entry.put("size", Long.parseLong(size));
                    entry.put("nsPerOp", ToolJson.finite(row.get().score()));
                    entry.put("ratioToMalloc", malloc == null ? null : ToolJson.finite(row.get().score() / malloc));
                    pairs.add(entry);
                }
            }
        }
        root.put("allocFree", pairs);
        root.put("larson", workload(results, "larson", "LarsonBenchmark.twoThreads"));
        root.put("xmallocTest", workload(results, "xmalloc-test", "XmallocTestBenchmark.xmallocTest"));
        root.put("skipped", results.skipped());
        return root;
    }

    private static List<Object> workload(Results results, String workload, String benchmark) {
        List<Object> list = new ArrayList<>();
        Double malloc = score(results, benchmark, Map.of("allocator", "malloc"));
        for (String allocator : RawAllocator.NAMES) {
            Optional<Results.Row> row = results.find(benchmark, Map.of("allocator", allocator));
            if (row.isEmpty()) {
                continue;
            }
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("allocator", allocator);
            entry.put("opsPerMicrosecond", ToolJson.finite(row.get().score()));
            entry.put("ratioToMalloc", malloc == null ? null : ToolJson.finite(row.get().score() / malloc));
            results.memory(workload, allocator, 2).ifPresent(m -> {
                entry.put("peakRssBytes", m.peakRss());
                entry.put("peakRssGrowthBytes", m.peakGrowth());
                entry.put("finalRssBytes", m.finalRss());
            });
            list.add(entry);
        }
        return list;
    }

    private static void printTables(Results results, boolean quick, PrintStream out) {
        Map<String, Object> env = results.environment;
        out.println("SpanHeap compare -- " + (quick ? QUICK_NOTE : NOTE));
        out.println(env.get("jdk") + ", " + env.get("cpu") + " x " + ResultRenderer.whole(env.get("cpus")) + " CPUs, glibc " + env.get("glibc") + ", " + env.get("date"));
        out.println();
        List<String> sizes = sizes(results);
        out.println("allocate + free, one thread: ns/op (ratio to glibc malloc through a plain downcall)");
        StringBuilder header = new StringBuilder(String.format("  %-40s", ""));
        for (String size : sizes) {
            header.append(String.format("%22s", ResultRenderer.bytes(Long.parseLong(size))));
        }
        out.println(header);
        for (String method : PAIR_METHODS) {
            String label = ResultRenderer.PAIR_COLUMNS.get(method);
            String skip = results.skipped().get(method);
            if (skip != null) {
                out.printf("  %-40s  %s%n", label, skip);
                continue;
            }
            StringBuilder row = new StringBuilder(String.format("  %-40s", label));
            boolean any = false;
            for (String size : sizes) {
                Optional<Results.Row> r = results.find("AllocFreePairBenchmark." + method, Map.of("size", size));
                Double malloc = score(results, "AllocFreePairBenchmark.malloc", Map.of("size", size));
                any |= r.isPresent();
                row.append(String.format("%22s", r.map(x -> String.format(Locale.ROOT, "%.1f (%s)",
                        x.score(), malloc == null ? "-" : String.format(Locale.ROOT, "%.2f", x.score() / malloc))).orElse("-")));
            }
            if (any) {
                out.println(row);
            }
        }
        if (!quick) {
            printWorkload(results, out, "larson, 2 threads", "larson", "LarsonBenchmark.twoThreads");
            printWorkload(results, out, "xmalloc-test, 1 allocating + 1 freeing thread", "xmalloc-test", "XmallocTestBenchmark.xmallocTest");
        }
    }

    private static void printWorkload(Results results, PrintStream out, String title, String workload, String benchmark) {
        out.println();
        out.println(title + ": ops/µs (ratio to glibc malloc), peak RSS, peak growth over the JVM's start, RSS after freeing");
        Double malloc = score(results, benchmark, Map.of("allocator", "malloc"));
        for (String allocator : RawAllocator.NAMES) {
            Optional<Results.Row> row = results.find(benchmark, Map.of("allocator", allocator));
            if (row.isEmpty()) {
                String skip = results.skipped().get(allocator);
                if (skip != null) {
                    out.printf("  %-16s %s%n", allocator, skip);
                }
                continue;
            }
            Optional<Results.Memory> memory = results.memory(workload, allocator, 2);
            out.printf(Locale.ROOT, "  %-16s %8.2f (%s)   peak %s   growth %s   after %s%n", allocator, row.get().score(),
                    malloc == null ? "-" : String.format(Locale.ROOT, "%.2f", row.get().score() / malloc),
                    memory.map(m -> ResultRenderer.mib(m.peakRss())).orElse("-"),
                    memory.map(m -> ResultRenderer.mib(m.peakGrowth())).orElse("-"),
                    memory.map(m -> ResultRenderer.mib(m.finalRss())).orElse("-"));
        }
    }

    private static List<String> sizes(Results results) {
        return results.rows.stream().filter(r -> r.className().equals("AllocFreePairBenchmark"))
                .map(r -> r.param("size")).distinct().sorted(Comparator.comparingLong(Long::parseLong)).toList();
    }

    private static Double score(Results results, String benchmark, Map<String, String> params) {
        return results.find(benchmark, params).map(Results.Row::score).orElse(null);
    }

    private static void deleteRecursively(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(directory)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
