package dev.spanheap.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Memory figures of one benchmark trial (one JMH fork), appended as a JSON line to the file named
 * by the system property {@value #PROPERTY}. JMH reports time; this side file carries what the
 * allocator cost in memory on the same run, and {@link ResultRenderer} joins the two.
 *
 * <p>A trial calls {@link #start} before its first iteration and {@link #finish} at the end, with
 * the workload's live set still allocated ({@code beforeFree}) and after freeing it.
 */
public final class MemoryLog {

    public static final String PROPERTY = "spanheap.bench.memoryLog";

    private long startRss;
    private boolean peakReset;

    /** Resets the peak and remembers the resident set before the workload allocates. */
    public void start() {
        peakReset = Rss.resetPeak();
        startRss = Rss.currentBytes();
    }

    /**
     * Records the trial. {@code liveBytes} is what the workload asked for and still holds;
     * {@code heldBeforeFree}/{@code heldAfterFree} come from the allocator's own accounting (-1 if none),
     * {@code residentBeforeFree} from {@link RawAllocator#residentBytes} (-1 if it cannot say): the
     * part of the process's RSS that is the allocator's own mappings.
     */
    public void finish(String workload, RawAllocator allocator, int threads, long liveBytes,
                       long heldBeforeFree, long residentBeforeFree, long heldAfterFree) {
        String file = System.getProperty(PROPERTY);
        if (file == null) {
            return;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("workload", workload);
        line.put("allocator", allocator.name());
        line.put("threads", threads);
        line.put("startRssBytes", startRss);
        line.put("peakRssBytes", Rss.peakBytes());
        line.put("peakIsWorkloadOnly", peakReset);
        line.put("finalRssBytes", Rss.currentBytes());
        line.put("liveBytesAtEnd", liveBytes);
        line.put("heldBytesBeforeFree", heldBeforeFree);
        line.put("heldBytesAfterFree", heldAfterFree);
        line.put("allocatorResidentBytesBeforeFree", residentBeforeFree);
        try {
            Files.writeString(Path.of(file), ToolJson.write(line) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException("cannot append to memory log " + file + ": " + e.getMessage(), e);
        }
    }
}
