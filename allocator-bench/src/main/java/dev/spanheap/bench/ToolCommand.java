package dev.spanheap.bench;

import java.io.PrintStream;

/**
 * One sub-command of the {@code spanheap} tool: a picocli command object whose options are
 * already parsed into its fields when {@link #run} is called.
 *
 * <p>{@link #run} returns the exit code (0 success, 1 the run failed); bad arguments found after
 * parsing are thrown as picocli {@code ParameterException}s (see {@link OptionChecks}), which the
 * tool reports with the command's usage and exit code 2.
 */
interface ToolCommand {

    int run(PrintStream out, PrintStream err) throws Exception;
}
