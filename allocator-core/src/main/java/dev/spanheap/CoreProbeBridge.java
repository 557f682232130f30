package dev.spanheap;

import dev.spanheap.internal.CoreAccess;

/**
 * The core's side of {@link dev.spanheap.internal.CoreProbe} (for the project's benchmarks; not
 * API): each method calls the code the fast paths run. Made once, by reflection, by
 * {@code CoreProbe}; nothing in the core uses it.
 */
final class CoreProbeBridge implements CoreAccess {

    private CoreProbeBridge() {
    }

    @Override
    public int sizeClassOf(long byteSize) {
        return SizeClasses.classOf(byteSize);
    }

    @Override
    public Object newThreadCache(Thread owner) {
        return new ThreadCache(owner, 0, 0);
    }

    @Override
    public boolean isOwnedBy(Object cache, Thread thread) {
        return ((ThreadCache) cache).owner == thread;
    }

    @Override
    public long pop(Object cache, int sizeClass) {
        return ((ThreadCache) cache).pop(sizeClass);
    }

    @Override
    public boolean push(Object cache, int sizeClass, long address) {
        return ((ThreadCache) cache).push(sizeClass, address);
    }

    @Override
    public int ownSlotClass(SpanHeap heap, Object cache, long address) {
        AddressRange range = heap.addressRange();
        long offset = address - range.base;
        int[] info = range.pageInfo;
        long page = offset >>> SizeClasses.PAGE_SHIFT;
        if (page >= info.length) {
            return 0;
        }
        int entry = info[(int) page] ^ ((ThreadCache) cache).shardTag;
        return SpanHeap.startsOwnShardSlot(offset, entry) ? entry & 0xFF : 0;
    }

    @Override
    public void clear(long address, long bytes) {
        Zero.clear(address, bytes);
    }

    @Override
    public void memset(long address, long bytes) {
        OsMemory.zero(address, bytes);
    }
}
