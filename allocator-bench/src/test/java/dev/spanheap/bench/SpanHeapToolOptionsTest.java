package dev.spanheap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool's options as picocli parses them: every option name and default the help showed before
 * picocli is still there, values are read in both {@code --name value} and {@code --name=value}
 * forms and whole numbers may have underscores, errors name the option, and a run that fails
 * (not its arguments) exits with 1.
 */
class SpanHeapToolOptionsTest {

    private static ToolRun run(String... args) {
        return ToolRun.of(args);
    }

    @Test
    void everyOptionAndDefaultIsInItsCommandsHelp() {
        Map<String, List<String>> expected = Map.of(
                "compare", List.of("--json", "--quick", "--keep", "DIR"),
                "stress", List.of("--duration", "(default 10s)", "--threads", "(default 4)", "--max-live-mib", "(default 64)",
                        "--seed", "time-based", "--checked"),
                "heapmap", List.of("--out", "(default heapmap.svg)", "--objects", "(default 100000)", "--keep", "(default 0.3)",
                        "--seed", "(default 1)"),
                "bench", List.of("--regex", "(default: all)", "--output", "(default allocator-bench/target/bench-results)",
                        "--quick", "--iteration-ms", "--forks", "--size", "--allocator"),
                "render", List.of("--input", "(default allocator-bench/target/bench-results)", "--output", "--charts", "--no-charts"),
                "baselines", List.of("Usage: spanheap baselines"),
                "serve", List.of("--allocator", "(default spanheap)", "--port", "(default 8080)", "--host", "(default 127.0.0.1)",
                        "--threads", "(default 2)", "--seconds", "--idle-timeout", "(default 10)", "--paranoid"));
        assertEquals(SpanHeapTool.COMMANDS.keySet(), expected.keySet(), "a help expectation per command");
        expected.forEach((command, texts) -> {
            ToolRun help = run(command, "--help");
            assertEquals(0, help.exitCode(), command + " --help");
            for (String text : texts) {
                assertTrue(help.out().contains(text), command + " --help mentions " + text + ":\n" + help.out());
            }
            ToolRun viaHelpCommand = run("help", command);
            assertEquals(0, viaHelpCommand.exitCode(), "help " + command);
            assertEquals(help.out(), viaHelpCommand.out(), "'help " + command + "' prints the same as '" + command + " --help'");
        });
    }

    @Test
    void bothValueFormsAndUnderscoresAreRead(@TempDir Path directory) throws Exception {
        Path svg = directory.resolve("map.svg");
        ToolRun outcome = run("heapmap", "--objects=2_000", "--keep", "0.5", "--seed=7", "--out", svg.toString());
        assertEquals(0, outcome.exitCode(), outcome.err());
        assertTrue(outcome.out().startsWith("2,000 blocks allocated"), outcome.out());
        assertTrue(Files.size(svg) > 0);
    }

    @Test
    void usageErrorsNameTheOptionOrCommand() {
        Map<List<String>, String> cases = Map.of(
                List.of("frobnicate"), "spanheap: unknown command 'frobnicate'",
                List.of("compare", "--no-such-option"), "spanheap compare: Unknown option: '--no-such-option'",
                List.of("stress", "--duration", "soon"), "'--duration': must be a duration like 500ms, 10s or 2m, was 'soon'",
                List.of("stress", "--threads", "0"), "spanheap stress: --threads must be between 1 and 256, was 0",
                List.of("heapmap", "--objects", "many"), "'--objects': must be a whole number, was 'many'",
                List.of("bench", "--quick", "--iteration-ms", "100"), "--quick and --iteration-ms exclude each other",
                List.of("bench", "--forks", "3", "--quick"), "--forks excludes --quick and --iteration-ms",
                List.of("bench", "--forks", "0"), "spanheap bench: --forks must be between 1 and 20, was 0",
                List.of("render", "--charts", "x", "--no-charts"), "--charts and --no-charts exclude each other");
        cases.forEach((args, message) -> {
            ToolRun outcome = run(args.toArray(String[]::new));
            assertEquals(SpanHeapTool.USAGE, outcome.exitCode(), "exit code of " + args);
            assertTrue(outcome.err().startsWith("spanheap") && outcome.err().contains(message), args + ": " + outcome.err());
            assertTrue(outcome.err().contains("Usage: spanheap"), "usage printed for " + args);
            assertEquals("", outcome.out(), "nothing on standard output for " + args);
        });
    }

    @Test
    void aRunThatFailsExitsWithOneAndSaysWhy(@TempDir Path directory) {
        ToolRun outcome = run("render", "--input", directory.resolve("missing").toString());
        assertEquals(SpanHeapTool.FAILED, outcome.exitCode(), outcome.err());
        assertTrue(outcome.err().contains("spanheap render: failed: java.io.IOException: no results directory"), outcome.err());
        assertTrue(!outcome.err().contains("Usage:"), "a failed run is not a usage error: " + outcome.err());
    }
}
