package dev.spanheap.bench;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The checks of option values that picocli's parser does not make (ranges, and facts about the
 * machine such as whether a benchmark or a directory exists), each failing with a picocli
 * {@link ParameterException} that names the option, so the tool prints the command's usage and
 * exits with 2 like any other bad argument.
 */
final class OptionChecks {

    private OptionChecks() {
    }

    /** A usage error of {@code spec}'s command with {@code message}. */
    static ParameterException usageError(CommandSpec spec, String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** {@code value} as an int if it lies in [{@code min}, {@code max}]. */
    static int between(CommandSpec spec, String option, long value, int min, int max) {
        if (value < min || value > max) {
            throw usageError(spec, option + " must be between " + min + " and " + max + ", was " + value);
        }
        return (int) value;
    }

    /** {@code value} if it lies in [{@code min}, {@code max}] (NaN does not). */
    static double between(CommandSpec spec, String option, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            throw usageError(spec, option + " must be between " + min + " and " + max + ", was " + value);
        }
        return value;
    }
}
