package dev.spanheap;

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
}
