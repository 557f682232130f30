package dev.spanheap.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spanheap render}: the markdown tables of a suite run, and its SVG charts linked beside them. */
@Command(name = "render",
        header = "turn the JSON results of a 'bench' run into markdown tables and SVG charts",
        customSynopsis = "spanheap render [--input DIR] [--output FILE] [--charts DIR | --no-charts]",
        description = {
                "Reads the results a 'spanheap bench' run wrote (JMH JSON files, memory.jsonl, environment.json)",
                "and prints markdown tables with ratios to glibc malloc and the targets marked met or missed.",
                "It also writes SVG charts (allocate+free time by size, throughput by thread count for every",
                "benchmark run at several thread counts, peak RSS by workload) and links each beside its table."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        sortOptions = false)
final class RenderCommand implements ToolCommand {

    @Spec
    private CommandSpec spec;

    @Option(names = "--input", paramLabel = "DIR", defaultValue = BenchCommand.DEFAULT_OUTPUT,
            description = "results directory (default ${DEFAULT-VALUE})")
    private Path input;

    @Option(names = "--output", paramLabel = "FILE", description = "write the markdown there instead of standard output")
    private Path outputFile;

    @Option(names = "--charts", paramLabel = "DIR",
            description = "where to write the charts (default: charts/ beside --output FILE, else DIR/charts of --input)")
    private Path chartDirectory;

    @Option(names = "--no-charts", description = "tables only")
    private boolean noCharts;

    @Mixin
    private HelpOption help;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        if (noCharts && chartDirectory != null) {
            throw OptionChecks.usageError(spec, "--charts and --no-charts exclude each other");
        }
        Results results = Results.load(input);
        List<RenderedChart> charts = List.of();
        String prefix = "";
        if (!noCharts) {
            Path markdownDirectory = (outputFile != null ? outputFile.toAbsolutePath().getParent() : Path.of("").toAbsolutePath()).normalize();
            Path directory = chartDirectory != null ? chartDirectory
                    : outputFile != null ? markdownDirectory.resolve("charts") : input.resolve("charts");
            charts = BenchmarkCharts.of(results);
            BenchmarkCharts.write(charts, directory);
            prefix = markdownDirectory.relativize(directory.toAbsolutePath().normalize()).toString().replace('\\', '/');
            prefix = prefix.isEmpty() ? "" : prefix + "/";
            for (RenderedChart chart : charts) {
                err.println("wrote " + directory.resolve(chart.file()));
            }
        }
        String markdown = ResultRenderer.render(results, charts, prefix);
        if (outputFile == null) {
            out.print(markdown);
        } else {
            Files.writeString(outputFile, markdown);
            err.println("wrote " + outputFile);
        }
        return 0;
    }
}
