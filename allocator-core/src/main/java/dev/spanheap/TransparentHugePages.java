package dev.spanheap;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's transparent huge pages, as far as the heap needs them: the THP mode (read once from
 * {@code /sys/kernel/mm/transparent_hugepage/enabled}), and how many bytes of given address
 * ranges are backed by huge pages ({@code AnonHugePages} in {@code /proc/self/smaps}). Go, TCMalloc
 * and mimalloc all place and release memory with 2 MiB pages in mind; this is the reading side,
 * {@link HugePageRelease} the releasing side.
 */
final class TransparentHugePages {

    /** Bytes of an x86-64 transparent huge page. */
    static final long HUGE_PAGE_BYTES = 2L << 20;

    /** The kernel's THP mode. */
    enum Mode {
        /** Every anonymous mapping may get huge pages. */
        ALWAYS("always"),
        /** Only mappings advised MADV_HUGEPAGE get them (this project's machines). */
        MADVISE("madvise"),
        /** None. */
        NEVER("never"),
        /** No THP in this kernel (or the file is unreadable). */
        UNAVAILABLE("unavailable");

        final String label;

        Mode(String label) {
            this.label = label;
        }

        /** Whether MADV_HUGEPAGE gets a mapping huge pages in this mode. */
        boolean honoursAdvice() {
            return this == ALWAYS || this == MADVISE;
        }
    }

    private static final class Holder {
        static final Mode MODE = readMode(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
    }

    private TransparentHugePages() {
    }

    /** The mode of this machine's kernel, read once. */
    static Mode mode() {
        return Holder.MODE;
    }

    /** The bracketed word of an {@code enabled} file ("always [madvise] never"). */
    static Mode readMode(Path enabledFile) {
        String text;
        try {
            text = Files.readString(enabledFile);
        } catch (IOException | RuntimeException e) {
            return Mode.UNAVAILABLE;
        }
        int open = text.indexOf('[');
        int close = text.indexOf(']', open + 1);
        if (open < 0 || close < 0) {
            return Mode.UNAVAILABLE;
        }
        return switch (text.substring(open + 1, close)) {
            case "always" -> Mode.ALWAYS;
            case "madvise" -> Mode.MADVISE;
            case "never" -> Mode.NEVER;
            default -> Mode.UNAVAILABLE;
        };
    }

    /**
     * The {@code AnonHugePages} bytes of the mappings in {@code smaps} that lie inside one of the
     * ranges {@code [starts[i], ends[i])} (the heap's mappings never straddle a range's edge).
     * Returns -1 if the file cannot be read. Its cost grows with the process's mappings and
     * resident memory (the kernel walks their page tables to write the file), hence
     * {@link HugePageGauge}'s caching.
     */
    static long anonHugePageBytes(Path smaps, long[] starts, long[] ends) {
        long total = 0;
        boolean inside = false;
        try (BufferedReader in = Files.newBufferedReader(smaps)) {
            String line;
            while ((line = in.readLine()) != null) {
                int dash = line.indexOf('-');
                int space = line.indexOf(' ');
                if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                    long start = Long.parseUnsignedLong(line, 0, dash, 16);
                    long end = Long.parseUnsignedLong(line, dash + 1, space, 16);
                    inside = false;
                    for (int i = 0; i < starts.length; i++) {
                        if (Long.compareUnsigned(start, starts[i]) >= 0 && Long.compareUnsigned(end, ends[i]) <= 0) {
                            inside = true;
                            break;
                        }
                    }
                } else if (inside && line.startsWith("AnonHugePages:")) {
                    String kb = line.substring("AnonHugePages:".length()).trim();
                    total += Long.parseLong(kb.substring(0, kb.indexOf(' '))) << 10;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return total;
    }

    private static boolean isHex(String line, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(line.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
