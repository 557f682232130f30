package dev.spanheap.bench;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExecutionException;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code spanheap} command-line tool: side-by-side comparisons with the native allocators, a
 * concurrency stress run, a heap map, the full JMH suite with its renderer, and an HTTP echo
 * server on Netty.
 *
 * <p>Its options are parsed by picocli. Exit codes: 0 success, 1 the run failed (a verification
 * error, a benchmark error), 2 bad arguments (with the usage on standard error).
 */
@Command(name = "spanheap",
        customSynopsis = "spanheap <command> [options]",
        description = {
                "SpanHeap, a Go-style off-heap allocator for the JVM: measure it against the native allocators,",
                "stress it, and look at its heap."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        commandListHeading = "%nCommands:%n",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:success",
                "1:the run failed (a verification error, a benchmark error)",
                "2:bad arguments (the usage is printed on standard error)"},
        footer = "%nRun 'spanheap <command> --help' for a command's options.")
public final class SpanHeapTool {

    /** Exit code of a failed run. */
    static final int FAILED = 1;

    /** Exit code of bad arguments. */
    static final int USAGE = 2;

    /** The commands in the order the help lists them; each run gets a fresh command object. */
    static final Map<String, Supplier<ToolCommand>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("compare", CompareCommand::new);
        COMMANDS.put("stress", StressCommand::new);
        COMMANDS.put("heapmap", HeapMapCommand::new);
        COMMANDS.put("bench", BenchCommand::new);
        COMMANDS.put("render", RenderCommand::new);
        COMMANDS.put("baselines", BaselinesCommand::new);
        COMMANDS.put("serve", ServeCommand::new);
    }

    /** Wide enough for the descriptions' lines, which are broken by hand as before picocli. */
    private static final int HELP_WIDTH = 110;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
    private boolean help;

    private SpanHeapTool() {
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    /** Runs the tool; returns the exit code instead of exiting (the tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        PrintWriter outWriter = new PrintWriter(out, true, StandardCharsets.UTF_8);
        PrintWriter errWriter = new PrintWriter(err, true, StandardCharsets.UTF_8);
        try {
            return commandLine(out, err, outWriter, errWriter).execute(args);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    /** The picocli command tree, writing help and errors to the given writers and running commands with the streams. */
    static CommandLine commandLine(PrintStream out, PrintStream err, PrintWriter outWriter, PrintWriter errWriter) {
        CommandLine line = new CommandLine(new SpanHeapTool());
        COMMANDS.forEach((name, command) -> {
            CommandLine sub = new CommandLine(command.get());
            // A command's header is its one-line summary in the command list; its own help starts with "Usage:".
            List<String> sections = new ArrayList<>(sub.getHelpSectionKeys());
            sections.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER_HEADING);
            sections.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER);
            sub.setHelpSectionKeys(sections);
            line.addSubcommand(name, sub);
        });
        line.addSubcommand("help", new HelpCommand());
        line.getSubcommands().get("help").getCommandSpec().usageMessage()
                .header("print a command's help, as 'spanheap <command> --help' does");
        line.setUsageHelpWidth(HELP_WIDTH);
        line.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        line.setOut(outWriter);
        line.setErr(errWriter);
        line.setParameterExceptionHandler(SpanHeapTool::usageError);
        line.setExecutionExceptionHandler((e, failed, parseResult) -> failure(e, failed));
        line.setExecutionStrategy(parseResult -> execute(line, parseResult, out, err));
        return line;
    }

    private static int execute(CommandLine line, ParseResult parseResult, PrintStream out, PrintStream err) {
        Integer helpCode = CommandLine.executeHelpRequest(parseResult);
        if (helpCode != null) {
            return helpCode;
        }
        if (!parseResult.hasSubcommand()) {
            throw new ParameterException(line, "no command given");
        }
        ParseResult sub = parseResult.subcommand();
        ToolCommand command = (ToolCommand) sub.commandSpec().userObject();
        try {
            return command.run(out, err);
        } catch (ParameterException e) {
            throw e;
        } catch (Exception e) {
            throw new ExecutionException(sub.commandSpec().commandLine(), String.valueOf(e.getMessage()), e);
        }
    }

    /** Bad arguments: what was wrong, prefixed with the command's name, then the command's usage; exit code 2. */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine failed = e.getCommandLine();
        PrintWriter err = failed.getErr();
        if (failed.getParent() == null && e instanceof UnmatchedArgumentException unmatched
                && !unmatched.getUnmatched().isEmpty() && args.length > 0 && unmatched.getUnmatched().getFirst().equals(args[0])
                && !args[0].startsWith("-")) {
            err.println("spanheap: unknown command '" + args[0] + "'");
        } else {
            err.println(failed.getCommandSpec().qualifiedName() + ": " + e.getMessage());
        }
        UnmatchedArgumentException.printSuggestions(e, err);
        failed.usage(err);
        return USAGE;
    }

    /** A failed run: the exception and its causes; exit code 1. */
    private static int failure(Exception e, CommandLine failed) {
        PrintWriter err = failed.getErr();
        String name = failed.getCommandSpec().qualifiedName();
        if (String.valueOf(e.getMessage()).contains("JMH lock")) {
            err.println(name + ": another JMH run holds /tmp/jmh.lock; wait for it to finish (two runs at once"
                    + " disturb each other's numbers), or run with SPANHEAP_JAVA_OPTS=-Djmh.ignoreLock=true");
            return FAILED;
        }
        err.println(name + ": failed: " + e);
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            err.println("  caused by: " + cause);
        }
        return FAILED;
    }
}
