package dev.spanheap.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spanheap bench}: the full JMH suite (or a subset) with every baseline available. */
@Command(name = "bench",
        header = "run the JMH suite (all of it, or a subset by regex) and write JSON results",
        customSynopsis = "spanheap bench [--regex REGEX] [--output DIR] [--quick | --iteration-ms MS | --forks N] [--size LIST] [--allocator LIST]",
        description = {
                "Runs the JMH benchmarks whose 'Class.method' matches REGEX, SpanHeap and every baseline side by",
                "side, with the settings in each benchmark's annotations (the settings of docs/benchmarks.md),",
                "plus SpanHeap's pair benchmarks under -prof gc. jemalloc runs in forks started with LD_PRELOAD.",
                "A full run takes about 25 minutes on 2 cores. Render the results with 'spanheap render'."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        sortOptions = false)
final class BenchCommand implements ToolCommand {

    static final String DEFAULT_OUTPUT = "allocator-bench/target/bench-results";

    @Spec
    private CommandSpec spec;

    @Option(names = "--regex", paramLabel = "REGEX", defaultValue = ".",
            description = "benchmarks to run (default: all), e.g. 'AllocFreePair|Larson'")
    private String regex;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = DEFAULT_OUTPUT,
            description = "results directory (default ${DEFAULT-VALUE})")
    private Path output;

    @Option(names = "--quick", description = "1 fork, 100 ms warm-up, 200 ms measurement: a smoke test (about 5 minutes)")
    private boolean quick;

    @Option(names = "--iteration-ms", paramLabel = "MS", converter = WholeNumberConverter.class,
            description = "1 fork, 1 warm-up and 2 measured iterations of MS milliseconds each")
    private Long iterationMillisOption;

    @Option(names = "--forks", paramLabel = "N", converter = WholeNumberConverter.class,
            description = "N forks of each benchmark instead of its annotation's, each with the benchmark's own iterations:"
                    + " narrower error bars for ratios near a target")
    private Long forksOption;

    @Option(names = "--size", paramLabel = "LIST", description = "restrict the size parameter, e.g. 64,4096")
    private String sizes;

    @Option(names = "--allocator", paramLabel = "LIST",
            description = "restrict the allocator parameter of the workloads, e.g. spanheap,malloc")
    private String allocators;

    @Mixin
    private HelpOption help;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Pattern selection;
        try {
            selection = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw OptionChecks.usageError(spec, "--regex is not a valid regular expression: " + e.getDescription());
        }
        if (SuiteRunner.benchmarks(selection).isEmpty()) {
            throw OptionChecks.usageError(spec, "no benchmark matches --regex '" + selection + "'");
        }
        SuiteRunner.Settings settings = quick ? SuiteRunner.Settings.quick() : SuiteRunner.Settings.full();
        if (iterationMillisOption != null) {
            int iterationMillis = OptionChecks.between(spec, "--iteration-ms", iterationMillisOption, 10, 60_000);
            if (quick) {
                throw OptionChecks.usageError(spec, "--quick and --iteration-ms exclude each other");
            }
            settings = new SuiteRunner.Settings(1, 1, TimeValue.milliseconds(iterationMillis), 2,
                    TimeValue.milliseconds(iterationMillis), true);
        }
        if (forksOption != null) {
            int forks = OptionChecks.between(spec, "--forks", forksOption, 1, 20);
            if (quick || iterationMillisOption != null) {
                throw OptionChecks.usageError(spec, "--forks excludes --quick and --iteration-ms");
            }
            settings = new SuiteRunner.Settings(forks, null, null, null, null, true);
        }
        SuiteRunner runner = new SuiteRunner(settings, output, err, VerboseMode.NORMAL);
        if (sizes != null) {
            runner.param("size", sizes);
        }
        if (allocators != null) {
            for (String name : allocators.split(",")) {
                if (!RawAllocator.NAMES.contains(name)) {
                    throw OptionChecks.usageError(spec, "--allocator: unknown allocator '" + name + "', expected some of " + RawAllocator.NAMES);
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
