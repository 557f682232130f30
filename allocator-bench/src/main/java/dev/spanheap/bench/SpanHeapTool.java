package dev.spanheap.bench;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code spanheap} command-line tool: side-by-side comparisons with the native allocators, a
 * concurrency stress run, a heap map, the full JMH suite with its renderer, and an HTTP echo
 * server on Netty.
 *
 * <p>Exit codes: 0 success, 1 the run failed (a verification error, a benchmark error), 2 bad
 * arguments (with the usage on standard error).
 */
public final class SpanHeapTool {

    /** One sub-command. */
    interface Command {
        String summary();

        String usage();

        int run(String[] args, PrintStream out, PrintStream err) throws Exception;
    }

    static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("compare", new CompareCommand());
        COMMANDS.put("stress", new StressCommand());
        COMMANDS.put("heapmap", new HeapMapCommand());
        COMMANDS.put("bench", new BenchCommand());
        COMMANDS.put("render", new RenderCommand());
        COMMANDS.put("baselines", new BaselinesCommand());
        COMMANDS.put("serve", new ServeCommand());
    }

    private SpanHeapTool() {
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.exit(code);
    }

    /** Runs the tool; returns the exit code instead of exiting (the tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println("spanheap: no command given");
            err.print(usage());
            return 2;
        }
        String name = args[0];
        if (name.equals("--help") || name.equals("-h") || name.equals("help")) {
            if (args.length > 1 && COMMANDS.containsKey(args[1])) {
                out.print(COMMANDS.get(args[1]).usage());
            } else {
                out.print(usage());
            }
            return 0;
        }
        Command command = COMMANDS.get(name);
        if (command == null) {
            err.println("spanheap: unknown command '" + name + "'");
            err.print(usage());
            return 2;
        }
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                out.print(command.usage());
                return 0;
            }
        }
        try {
            return command.run(args, out, err);
        } catch (CommandLine.UsageException e) {
            err.println("spanheap " + name + ": " + e.getMessage());
            err.print(command.usage());
            return 2;
        } catch (Exception e) {
            if (String.valueOf(e.getMessage()).contains("JMH lock")) {
                err.println("spanheap " + name + ": another JMH run holds /tmp/jmh.lock; wait for it to finish (two runs at once"
                        + " disturb each other's numbers), or run with SPANHEAP_JAVA_OPTS=-Djmh.ignoreLock=true");
                return 1;
            }
            err.println("spanheap " + name + ": failed: " + e);
            Throwable cause = e.getCause();
            while (cause != null) {
                err.println("  caused by: " + cause);
                cause = cause.getCause();
            }
            return 1;
        }
    }

    static String usage() {
        StringBuilder text = new StringBuilder();
        text.append("Usage: spanheap <command> [options]\n\n");
        text.append("SpanHeap, a Go-style off-heap allocator for the JVM: measure it against the native allocators,\n");
        text.append("stress it, and look at its heap.\n\nCommands:\n");
        COMMANDS.forEach((name, command) -> text.append(String.format("  %-10s %s%n", name, command.summary())));
        text.append("\nRun 'spanheap <command> --help' for a command's options.\n");
        return text.toString();
    }
}
