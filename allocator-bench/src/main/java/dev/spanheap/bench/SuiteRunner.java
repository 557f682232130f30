package dev.spanheap.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs a selection of the JMH suite with every baseline this machine has, and writes what
 * {@link ResultRenderer} needs into one directory:
 * <ul>
 * <li>{@code jmh-main.json}: everything except jemalloc;</li>
 * <li>{@code jmh-jemalloc.json}: the jemalloc benchmarks, run in forks whose JVM is started with
 *     jemalloc in {@code LD_PRELOAD} (through a two-line launcher written to the directory), because
 *     jemalloc cannot be loaded any other way;</li>
 * <li>{@code jmh-gc.json}: SpanHeap's pair benchmarks again under {@code -prof gc}, to show the
 *     raw-address path allocates no Java garbage;</li>
 * <li>{@code memory.jsonl}: RSS and held/live bytes per trial ({@link MemoryLog});</li>
 * <li>{@code environment.json}: JDK, CPU, date, settings, and the baselines skipped and why.</li>
 * </ul>
 */
final class SuiteRunner {

    /** Benchmarks that take the {@code allocator} parameter of {@link AllocatorState}. */
    private static final Set<String> PER_ALLOCATOR_CLASSES = Set.of(
            "BatchFreeOrderBenchmark", "MixedSizesBenchmark", "ProducerConsumerBenchmark",
            "XmallocTestBenchmark", "LarsonBenchmark", "CacheScratchBenchmark", "ThreadScalingBenchmark",
            "LargeObjectBenchmark", "VirtualThreadBenchmark");
    private static final String PAIR = "AllocFreePairBenchmark";
    private static final Map<String, String> PAIR_METHOD_OF_ALLOCATOR = Map.of(
            "mimalloc", "mimalloc", "tcmalloc", "tcmalloc", "jemalloc", "jemalloc");

    /** How long and how often to measure; null fields keep each benchmark's own annotations. */
    record Settings(Integer forks, Integer warmupIterations, TimeValue warmupTime,
                    Integer measurementIterations, TimeValue measurementTime, boolean gcProfile) {

        /** The benchmarks' own annotations: what docs/benchmarks.md is measured with. */
        static Settings full() {
            return new Settings(null, null, null, null, null, true);
        }

        /** A smoke run: every benchmark once, briefly (the gc profile too), to see it works. Numbers mean little. */
        static Settings quick() {
            return new Settings(1, 1, TimeValue.milliseconds(100), 1, TimeValue.milliseconds(200), true);
        }
    }

    private final Settings settings;
    private final Path outputDirectory;
    private final PrintStream log;
    private final VerboseMode verbosity;
    private final Map<String, String> params = new LinkedHashMap<>();
    private List<String> allocatorFilter = RawAllocator.NAMES;

    SuiteRunner(Settings settings, Path outputDirectory, PrintStream log, VerboseMode verbosity) {
        this.settings = settings;
        this.outputDirectory = outputDirectory;
        this.log = log;
        this.verbosity = verbosity;
    }

    /** Restricts a JMH parameter (e.g. {@code size}) to the given comma-separated values. */
    SuiteRunner param(String name, String values) {
        params.put(name, values);
        return this;
    }

    /** Restricts the workloads' allocator parameter to {@code names} (the available ones among them). */
    SuiteRunner allocators(List<String> names) {
        this.allocatorFilter = List.copyOf(names);
        return this;
    }

    /** Why each unavailable baseline is skipped; jemalloc is available when its library is installed. */
    static Map<String, String> skippedBaselines() {
        Map<String, String> skipped = new LinkedHashMap<>();
        for (String name : List.of("mimalloc", "tcmalloc")) {
            String reason = RawAllocator.skipReason(name);
            if (reason != null) {
                skipped.put(name, reason);
            }
        }
        if (!NativeAllocators.JEMALLOC.available() && NativeAllocators.jemallocLibrary().isEmpty()) {
            skipped.put("jemalloc", NativeAllocators.JEMALLOC.skipReason());
        }
        return skipped;
    }

    /** Every benchmark in the jar whose name (Class.method) matches {@code selection}. */
    static SortedSet<String> benchmarks(Pattern selection) {
        SortedSet<String> names = new TreeSet<>();
        OutputFormat silent = OutputFormatFactory.createFormatInstance(new PrintStream(java.io.OutputStream.nullOutputStream()), VerboseMode.SILENT);
        for (BenchmarkListEntry entry : BenchmarkList.defaultList().getAll(silent, List.of())) {
            String user = entry.getUsername();
            String shortName = user.substring(user.lastIndexOf('.', user.lastIndexOf('.') - 1) + 1);
            if (selection.matcher(shortName).find()) {
                names.add(user);
            }
        }
        return names;
    }

    /** Runs the selection; returns the directory's files written. */
    List<Path> run(Pattern selection) throws IOException, RunnerException {
        Files.createDirectories(outputDirectory);
        // Results of an earlier run in the same directory would be rendered with this one's.
        for (String stale : List.of("jmh-main.json", "jmh-jemalloc.json", "jmh-gc.json", "memory.jsonl", "environment.json")) {
            Files.deleteIfExists(outputDirectory.resolve(stale));
        }
        Path memoryLog = outputDirectory.resolve("memory.jsonl");
        Map<String, String> skipped = skippedBaselines();
        SortedSet<String> selected = benchmarks(selection);
        if (selected.isEmpty()) {
            throw new IllegalArgumentException("no benchmark matches '" + selection + "'");
        }
        boolean jemallocInstalled = NativeAllocators.jemallocLibrary().isPresent();
        List<String> nativeAllocators = new ArrayList<>(List.of("spanheap", "malloc", "malloc-critical"));
        for (String name : List.of("mimalloc", "tcmalloc")) {
            if (!skipped.containsKey(name)) {
                nativeAllocators.add(name);
            }
        }
        boolean preloadedHere = NativeAllocators.JEMALLOC.available();

        List<String> mainRun = new ArrayList<>();
        List<String> jemallocRun = new ArrayList<>();
        for (String name : selected) {
            String shortName = simpleName(name);
            String className = shortName.substring(0, shortName.indexOf('.'));
            String method = shortName.substring(shortName.indexOf('.') + 1);
            if (className.equals(PAIR) && PAIR_METHOD_OF_ALLOCATOR.containsKey(method)) {
                if (skipped.containsKey(method)) {
                    continue;
                }
                if (method.equals("jemalloc") && !preloadedHere) {
                    jemallocRun.add(name);
                    continue;
                }
            }
            mainRun.add(name);
            if (PER_ALLOCATOR_CLASSES.contains(className) && jemallocInstalled && !preloadedHere) {
                jemallocRun.add(name);
            }
        }
        if (preloadedHere) {
            nativeAllocators.add("jemalloc");
        }
        nativeAllocators.retainAll(allocatorFilter);
        if (!allocatorFilter.contains("jemalloc")) {
            jemallocRun.removeIf(name -> !simpleName(name).equals(PAIR + ".jemalloc"));
        }
        if (nativeAllocators.isEmpty()) {
            mainRun.removeIf(name -> PER_ALLOCATOR_CLASSES.contains(simpleName(name).substring(0, simpleName(name).indexOf('.'))));
        }

        List<Path> written = new ArrayList<>();
        Map<String, Object> environment = Environment.describe();
        environment.put("skipped", skipped);
        environment.put("settings", describe(settings));
        environment.put("selection", selection.pattern());
        Path environmentFile = outputDirectory.resolve("environment.json");
        Files.writeString(environmentFile, ToolJson.write(environment) + "\n");
        written.add(environmentFile);
        skipped.forEach((name, reason) -> log.println("baseline " + name + ": " + reason));

        if (!mainRun.isEmpty()) {
            Path result = outputDirectory.resolve("jmh-main.json");
            runJmh(mainRun, String.join(",", nativeAllocators), null, result, memoryLog, false);
            written.add(result);
        }
        if (!jemallocRun.isEmpty()) {
            Path launcher = preloadingLauncher(NativeAllocators.jemallocLibrary().orElseThrow());
            Path result = outputDirectory.resolve("jmh-jemalloc.json");
            runJmh(jemallocRun, "jemalloc", launcher.toString(), result, memoryLog, false);
            written.add(result);
        }
        List<String> gcRun = mainRun.stream()
                .filter(n -> simpleName(n).startsWith(PAIR + ".spanheap"))
                .collect(Collectors.toList());
        if (settings.gcProfile() && !gcRun.isEmpty()) {
            Path result = outputDirectory.resolve("jmh-gc.json");
            runJmh(gcRun, null, null, result, null, true);
            written.add(result);
        }
        if (Files.exists(memoryLog)) {
            written.add(memoryLog);
        }
        return written;
    }

    private void runJmh(List<String> benchmarks, String allocators, String jvm, Path result, Path memoryLog,
                        boolean gc) throws RunnerException {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .result(result.toString())
                .resultFormat(ResultFormatType.JSON)
                .verbosity(verbosity)
                .shouldFailOnError(true);
        for (String benchmark : benchmarks) {
            options.include("^" + Pattern.quote(benchmark) + "$");
        }
        List<String> jvmArgs = new ArrayList<>(List.of(
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx1g"));
        if (memoryLog != null) {
            jvmArgs.add("-D" + MemoryLog.PROPERTY + "=" + memoryLog.toAbsolutePath());
        }
        options.jvmArgsAppend(jvmArgs.toArray(String[]::new));
        if (jvm != null) {
            options.jvm(jvm);
        }
        if (allocators != null) {
            options.param("allocator", allocators.split(","));
        }
        params.forEach((name, values) -> options.param(name, values.split(",")));
        if (settings.forks() != null) {
            options.forks(settings.forks());
        }
        if (settings.warmupIterations() != null) {
            options.warmupIterations(settings.warmupIterations());
        }
        if (settings.warmupTime() != null) {
            options.warmupTime(settings.warmupTime());
        }
        if (settings.measurementIterations() != null) {
            options.measurementIterations(settings.measurementIterations());
        }
        if (settings.measurementTime() != null) {
            options.measurementTime(settings.measurementTime());
        }
        if (gc) {
            options.addProfiler(GCProfiler.class);
            options.forks(1).warmupIterations(1).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(2).measurementTime(TimeValue.seconds(1));
            if (settings.warmupTime() != null) {
                options.warmupTime(settings.warmupTime()).measurementTime(settings.measurementTime());
            }
        }
        new Runner(options.build()).run();
    }

    /** A launcher that starts the JVM with {@code library} preloaded; JMH starts its forks with it. */
    private Path preloadingLauncher(Path library) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path launcher = outputDirectory.resolve("java-with-jemalloc.sh");
        Files.writeString(launcher, "#!/bin/sh\n# Written by SuiteRunner: JMH forks for the jemalloc baseline.\n"
                + "LD_PRELOAD='" + library + "' exec '" + java + "' \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        return launcher;
    }

    static String simpleName(String benchmark) {
        return benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1);
    }

    private static Map<String, Object> describe(Settings settings) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("forks", settings.forks() == null ? "per benchmark" : settings.forks());
        out.put("warmup", settings.warmupIterations() == null ? "per benchmark"
                : settings.warmupIterations() + " x " + settings.warmupTime());
        out.put("measurement", settings.measurementIterations() == null ? "per benchmark"
                : settings.measurementIterations() + " x " + settings.measurementTime());
        return out;
    }

    static TimeValue millis(long ms) {
        return new TimeValue(ms, TimeUnit.MILLISECONDS);
    }
}
