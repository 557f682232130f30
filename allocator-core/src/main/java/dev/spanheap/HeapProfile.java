package dev.spanheap;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The sampled heap profile of a {@link SpanHeap} at one moment ({@link SpanHeap#profile()}): its
 * allocation sites, most live bytes first.
 *
 * @param sampleBytes  the mean bytes between samples ({@link SpanHeapConfig#profileSampleBytes()}); 0 when profiling is off
 * @param samplesTaken samples taken since the heap was created (freed ones included)
 * @param sites        the sites with live or past samples, by estimated live bytes, largest first
 */
public record HeapProfile(long sampleBytes, long samplesTaken, List<ProfileSite> sites) {

    public HeapProfile {
        sites = List.copyOf(sites);
    }

    /** Estimated bytes still allocated, over all sites. */
    public long liveBytes() {
        return sites.stream().mapToLong(ProfileSite::liveBytes).sum();
    }

    /** Estimated objects still allocated, over all sites. */
    public long liveObjects() {
        return sites.stream().mapToLong(ProfileSite::liveObjects).sum();
    }

    /**
     * Writes this profile to {@code path} (replacing it) in pprof's format, a gzipped
     * {@code profile.proto} laid out as Go's heap profiles are: sample types {@code alloc_objects},
     * {@code alloc_space}, {@code inuse_objects} and {@code inuse_space} (the default view), one
     * sample per site, its stack as locations with file and line. View it with
     * {@code go tool pprof -top heap.pb.gz} or {@code pprof -http=: heap.pb.gz}.
     *
     * @throws UncheckedIOException naming the path if the file cannot be written
     */
    public void writePprof(Path path) {
        if (path == null) {
            throw new IllegalArgumentException("writePprof: path is null");
        }
        PprofWriter.write(this, path);
    }
}
