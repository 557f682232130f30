package dev.spanheap;

import java.util.List;

/**
 * One allocation site of a {@link HeapProfile}: the stack its sampled allocations were made from
 * (innermost frame first, SpanHeap's own frames left out) and what the samples estimate for it.
 * Estimates scale each sample by the inverse of the chance that an allocation of its size was
 * sampled, as Go's heap profile does, so they are unbiased.
 *
 * @param stack            the allocating stack, innermost frame first
 * @param liveObjects      estimated objects from this site still allocated
 * @param liveBytes        estimated bytes (as requested) of those objects
 * @param allocatedObjects estimated objects allocated from this site since profiling started
 * @param allocatedBytes   estimated bytes (as requested) allocated from this site since profiling started
 */
public record ProfileSite(List<StackTraceElement> stack, long liveObjects, long liveBytes, long allocatedObjects,
        long allocatedBytes) {

    public ProfileSite {
        stack = List.copyOf(stack);
    }
}
