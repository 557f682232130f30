package dev.spanheap.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/** {@code spanheap bench}: the full JMH suite (or a subset) with every baseline available. */
final class BenchCommand implements SpanHeapTool.Command {

    static final String DEFAULT_OUTPUT = "allocator-bench/target/bench-results";

    @Override
    public String summary() {
        return "run the JMH suite (all of it, or a subset by regex) and write JSON results";
    }

    @Override
    public String usage() {
        return """
                Usage: spanheap bench [--regex REGEX] [--output DIR] [--quick | --iteration-ms MS] [--size LIST] [--allocator LIST]

                Runs the JMH benchmarks whose 'Class.method' matches REGEX, SpanHeap and every baseline side by
                side, with the settings in each benchmark's annotations (the settings of docs/benchmarks.md),
                plus SpanHeap's pair benchmarks under -prof gc. jemalloc runs in forks started with LD_PRELOAD.
                A full run takes about 25 minutes on 2 cores. Render the results with 'spanheap render'.

                Options:
                  --regex REGEX      benchmarks to run (default: all), e.g. 'AllocFreePair|Larson'
                  --output DIR       results directory (default allocator-bench/target/bench-results)
                  --quick            1 fork, 100 ms warm-up, 200 ms measurement: a smoke test (about 5 minutes)
                  --iteration-ms MS  1 fork, 1 warm-up and 2 measured iterations of MS milliseconds each
                  --size LIST        restrict the size parameter, e.g. 64,4096
                  --allocator LIST   restrict the allocator parameter of the workloads, e.g. spanheap,malloc
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        CommandLine line = CommandLine.parse(args, 1, Set.of("quick"), Set.of("regex", "output", "size", "allocator", "iteration-ms"));
        Pattern selection;
        try {
            selection = Pattern.compile(line.value("regex", "."));
        } catch (PatternSyntaxException e) {
            throw new CommandLine.UsageException("--regex is not a valid regular expression: " + e.getDescription());
        }
        if (SuiteRunner.benchmarks(selection).isEmpty()) {
            throw new CommandLine.UsageException("no benchmark matches --regex '" + selection + "'");
        }
        SuiteRunner.Settings settings = line.flag("quick") ? SuiteRunner.Settings.quick() : SuiteRunner.Settings.full();
        int iterationMillis = line.intValue("iteration-ms", 0, 10, 60_000);
        if (iterationMillis > 0) {
            if (line.flag("quick")) {
                throw new CommandLine.UsageException("--quick and --iteration-ms exclude each other");
            }
            settings = new SuiteRunner.Settings(1, 1, TimeValue.milliseconds(iterationMillis), 2,
                    TimeValue.milliseconds(iterationMillis), true);
        }
        Path output = Path.of(line.value("output", DEFAULT_OUTPUT));
        SuiteRunner runner = new SuiteRunner(settings, output, err, VerboseMode.NORMAL);
        String sizes = line.value("size", null);
        if (sizes != null) {
            runner.param("size", sizes);
        }
        String allocators = line.value("allocator", null);
        if (allocators != null) {
            for (String name : allocators.split(",")) {
                if (!RawAllocator.NAMES.contains(name)) {
                    throw new CommandLine.UsageException("--allocator: unknown allocator '" + name + "', expected some of " + RawAllocator.NAMES);
                }
            }
            runner.allocators(List.of(allocators.split(",")));
        }
        List<Path> written = runner.run(selection);
        out.println("results:");
        written.forEach(p -> out.println("  " + p));
        out.println("render with: spanheap render --input " + output);
        return 0;
    }
}
