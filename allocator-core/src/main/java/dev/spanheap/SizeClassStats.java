package dev.spanheap;

/**
 * Statistics of one size class (one row of Go's {@code MemStats.BySize}, with span counts).
 *
 * @param sizeClass     class number, 1 to 67
 * @param slotSize      bytes per slot
 * @param spanPages     8 KiB pages per span of this class
 * @param spans         spans of this class in use
 * @param liveObjects   slots handed out to callers and not yet freed
 * @param cachedSlots   free slots held by thread caches
 * @param freeSlots     free slots in this class's spans (not in caches)
 * @param allocations   allocations of this class since the heap was created
 * @param frees         frees of this class since the heap was created
 */
public record SizeClassStats(int sizeClass, int slotSize, int spanPages, long spans, long liveObjects,
                             long cachedSlots, long freeSlots, long allocations, long frees) {

    /** Bytes of this class's spans. */
    public long spanBytes() {
        return spans * spanPages * 8192L;
    }

    /** Bytes in live slots. */
    public long liveBytes() {
        return liveObjects * slotSize;
    }
}
