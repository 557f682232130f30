package dev.spanheap.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** {@code spanheap render}: the markdown tables of a suite run. */
final class RenderCommand implements SpanHeapTool.Command {

    @Override
    public String summary() {
        return "turn the JSON results of a 'bench' run into markdown tables";
    }

    @Override
    public String usage() {
        return """
                Usage: spanheap render [--input DIR] [--output FILE]

                Reads the results a 'spanheap bench' run wrote (JMH JSON files, memory.jsonl, environment.json)
                and prints markdown tables with ratios to glibc malloc and the targets marked met or missed.

                Options:
                  --input DIR     results directory (default allocator-bench/target/bench-results)
                  --output FILE   write the markdown there instead of standard output
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        CommandLine line = CommandLine.parse(args, 1, Set.of(), Set.of("input", "output"));
        Path input = Path.of(line.value("input", BenchCommand.DEFAULT_OUTPUT));
        String markdown = ResultRenderer.render(Results.load(input));
        String outputFile = line.value("output", null);
        if (outputFile == null) {
            out.print(markdown);
        } else {
            Files.writeString(Path.of(outputFile), markdown);
            err.println("wrote " + outputFile);
        }
        return 0;
    }
}
