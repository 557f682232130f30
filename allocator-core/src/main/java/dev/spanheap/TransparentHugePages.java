package dev.spanheap;

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
}
