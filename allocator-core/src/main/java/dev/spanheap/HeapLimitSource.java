package dev.spanheap;

/**
 * Where a heap's {@code maxHeapBytes} came from (see {@link SpanHeapConfig#maxHeapBytesSource()}
 * and the README, "Limits of the machine").
 */
public enum HeapLimitSource {
    /** Set with {@link SpanHeapConfig.Builder#maxHeapBytes(long)}. */
    CONFIG,
    /** Set with the system property {@code spanheap.maxHeapBytes}. */
    PROPERTY,
    /** Derived from the cgroup v1 memory limit ({@code memory.limit_in_bytes}) of the process. */
    CGROUP_V1,
    /** Derived from the cgroup v2 memory limit ({@code memory.max}) of the process. */
    CGROUP_V2,
    /** Nothing set and no container limit found: no limit. */
    NONE
}
