package dev.spanheap.bench;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The picocli converter of whole-number option values, which allows {@code _} between digits
 * ({@code 100_000}) as the tool's parser before picocli did; the option's range is checked by the
 * command ({@link OptionChecks}).
 */
final class WholeNumberConverter implements ITypeConverter<Long> {

    @Override
    public Long convert(String value) {
        try {
            return Long.parseLong(value.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new TypeConversionException("must be a whole number, was '" + value + "'");
        }
    }
}
