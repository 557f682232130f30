package dev.spanheap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident set, read from {@code /proc/self/status} (the kernel's own figures). */
public final class Rss {

    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private Rss() {
    }

    /** Current resident set ({@code VmRSS}) in bytes. */
    public static long currentBytes() {
        return field("VmRSS:");
    }

    /** Peak resident set since start or the last {@link #resetPeak()} ({@code VmHWM}) in bytes. */
    public static long peakBytes() {
        return field("VmHWM:");
    }

    /**
     * Resets {@code VmHWM} to the current RSS (writes 5 to {@code /proc/self/clear_refs}), so that
     * a workload's peak is not the JVM's start-up peak. Returns false if the kernel refused.
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
            throw new IllegalStateException(STATUS + " has no " + name + " line");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + STATUS + ": " + e.getMessage(), e);
        }
    }
}
