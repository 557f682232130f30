package dev.spanheap.bench;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The picocli converter of duration option values: a positive {@code 500ms}, {@code 2s},
 * {@code 1.5m}, {@code 1h}, or a bare number of seconds.
 */
final class DurationConverter implements ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        String text = value.trim().toLowerCase(Locale.ROOT);
        Duration duration;
        try {
            if (text.endsWith("ms")) {
                duration = Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
            } else if (text.endsWith("s")) {
                duration = millis(text, 1, 1000);
            } else if (text.endsWith("m")) {
                duration = millis(text, 1, 60_000);
            } else if (text.endsWith("h")) {
                duration = millis(text, 1, 3_600_000);
            } else {
                duration = millis(text, 0, 1000);
            }
        } catch (NumberFormatException e) {
            throw new TypeConversionException("must be a duration like 500ms, 10s or 2m, was '" + value + "'");
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new TypeConversionException("must be positive, was '" + value + "'");
        }
        return duration;
    }

    /** The number before a unit suffix of {@code suffixLength} characters, times {@code millisPerUnit}. */
    private static Duration millis(String text, int suffixLength, long millisPerUnit) {
        double units = Double.parseDouble(text.substring(0, text.length() - suffixLength));
        if (!Double.isFinite(units)) {
            throw new NumberFormatException(text);
        }
        return Duration.ofMillis(Math.round(units * millisPerUnit));
    }
}
