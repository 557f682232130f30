package dev.spanheap.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code spanheap render}: the markdown tables of a suite run. */
@Command(name = "render",
        header = "turn the JSON results of a 'bench' run into markdown tables",
        customSynopsis = "spanheap render [--input DIR] [--output FILE]",
        description = {
                "Reads the results a 'spanheap bench' run wrote (JMH JSON files, memory.jsonl, environment.json)",
                "and prints markdown tables with ratios to glibc malloc and the targets marked met or missed."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        sortOptions = false)
final class RenderCommand implements ToolCommand {

    @Option(names = "--input", paramLabel = "DIR", defaultValue = BenchCommand.DEFAULT_OUTPUT,
            description = "results directory (default ${DEFAULT-VALUE})")
    private Path input;

    @Option(names = "--output", paramLabel = "FILE", description = "write the markdown there instead of standard output")
    private Path outputFile;

    @Mixin
    private HelpOption help;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        String markdown = ResultRenderer.render(Results.load(input));
        if (outputFile == null) {
            out.print(markdown);
        } else {
            Files.writeString(outputFile, markdown);
            err.println("wrote " + outputFile);
        }
        return 0;
    }
}
