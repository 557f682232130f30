package dev.spanheap;

/**
 * The {@code maxHeapBytes} a heap gets when its configuration sets none: the system property
 * {@value SharedHeap#MAX_HEAP_BYTES} if present ({@code 0} for none), else a share of the
 * container's memory limit ({@link CgroupMemoryLimit}), else no limit. Go leaves its memory limit
 * to the user; a JVM in a container is killed by the kernel when it passes the group's limit, and
 * a clean {@link OutOfMemoryError} is better than that.
 *
 * <p>The share: {@code limit - javaMaxHeap - margin}, where {@code javaMaxHeap} is
 * {@link Runtime#maxMemory()} (the JVM sizes its own heap from the same limit) and the margin is
 * an eighth of the limit, at least 64 MiB, for the JVM's other memory (metaspace, code cache,
 * thread stacks, GC structures); never less than an eighth of the limit, so that a Java heap set
 * too large still leaves SpanHeap a usable limit instead of none.
 *
 * @param bytes  the limit ({@code Long.MAX_VALUE} for none)
 * @param source where it came from
 * @param cgroup the container limit that was read (its {@code bytes} is {@code Long.MAX_VALUE} if none)
 */
record DefaultHeapLimit(long bytes, HeapLimitSource source, CgroupMemoryLimit cgroup) {

    static final long MIN_MARGIN_BYTES = 64L << 20;

    /** The container limit of this process, read once (a group's limit rarely changes under a running JVM). */
    private static final class ThisProcess {
        static final CgroupMemoryLimit CGROUP = CgroupMemoryLimit.ofThisProcess();
    }

    /** The default for this process: the property, then the container limit of this process. */
    static DefaultHeapLimit resolve(String propertyValue) {
        CgroupMemoryLimit cgroup = ThisProcess.CGROUP;
        if (propertyValue != null) {
            long limit = SharedHeap.parseLimit(SharedHeap.MAX_HEAP_BYTES, propertyValue);
            return new DefaultHeapLimit(limit, HeapLimitSource.PROPERTY, cgroup);
        }
        return fromCgroup(cgroup, Runtime.getRuntime().maxMemory());
    }

    /** The share of a container limit that SpanHeap takes, as the class comment says. */
    static DefaultHeapLimit fromCgroup(CgroupMemoryLimit cgroup, long javaMaxHeapBytes) {
        if (!cgroup.limited()) {
            return new DefaultHeapLimit(Long.MAX_VALUE, HeapLimitSource.NONE, cgroup);
        }
        return new DefaultHeapLimit(shareOf(cgroup.bytes(), javaMaxHeapBytes),
                cgroup.version() == 2 ? HeapLimitSource.CGROUP_V2 : HeapLimitSource.CGROUP_V1, cgroup);
    }

    /** {@code max(limit - javaMaxHeap - max(limit / 8, 64 MiB), limit / 8)}, at least one byte. */
    static long shareOf(long containerLimitBytes, long javaMaxHeapBytes) {
        long margin = Math.max(containerLimitBytes / 8, MIN_MARGIN_BYTES);
        long room = containerLimitBytes - Math.min(javaMaxHeapBytes, containerLimitBytes) - margin;
        return Math.max(Math.max(room, containerLimitBytes / 8), 1);
    }
}
