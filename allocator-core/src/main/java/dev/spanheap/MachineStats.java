package dev.spanheap;

/**
 * What a heap got from the machine it runs on: its address range (smaller than configured under an
 * address-space limit), its limit and where that came from (a container's memory limit among
 * them), and transparent huge pages. Part of {@link HeapStats}; the README's "Limits of the
 * machine" says how each is decided.
 *
 * @param requestedAddressSpaceBytes address space the configuration asked to reserve
 * @param reservedAddressSpaceBytes  address space reserved: less than requested when the OS refused
 *                                   (an address-space limit); arenas beyond it cannot be mapped
 * @param maxHeapBytesSource         where {@link HeapStats#maxHeapBytes()} came from
 * @param containerLimitBytes        the cgroup memory limit read for the default limit;
 *                                   {@code Long.MAX_VALUE} when none was found or the limit was set
 * @param containerLimitFile         the file that limit came from, or why none was found; empty when not read
 * @param transparentHugePages       the kernel's THP mode: always, madvise, never or unavailable
 * @param hugePagesAdvised           whether the heap asks for huge pages now (configured, the mode honours
 *                                   it, and the heap has held {@link SpanHeapConfig#hugePagesFromBytes()})
 * @param hugePageBytes              bytes of the heap's arenas and dedicated mappings backed by huge
 *                                   pages (AnonHugePages in /proc/self/smaps), read at most once a
 *                                   second; -1 if unreadable
 * @param residentBytes              bytes of the heap's arenas and dedicated mappings resident in memory, as
 *                                   the OS counts them (mincore over each), read with {@code hugePageBytes}
 *                                   ({@link SpanHeap#residentBytes()} reads it now); below
 *                                   {@link HeapStats#residentEstimateBytes()} where held pages were never
 *                                   written; the rest of the process's RSS is not the heap's
 */
public record MachineStats(
        long requestedAddressSpaceBytes,
        long reservedAddressSpaceBytes,
        HeapLimitSource maxHeapBytesSource,
        long containerLimitBytes,
        String containerLimitFile,
        String transparentHugePages,
        boolean hugePagesAdvised,
        long hugePageBytes,
        long residentBytes) {

    /** Whether the OS refused the configured address space and the heap took a smaller range. */
    public boolean addressSpaceCutShort() {
        return reservedAddressSpaceBytes < requestedAddressSpaceBytes;
    }
}
