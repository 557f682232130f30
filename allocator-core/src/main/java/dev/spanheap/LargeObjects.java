package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The heap's large objects, the requests that leave the size classes (over 32 KiB, or aligned
 * beyond 8 KiB): a run of whole pages from the current thread's shard's page heap, or, for an
 * object larger than an arena, a dedicated mapping of its own; with the heap profile's draw for
 * each, their frees and their usable sizes. Go's large-object path of {@code mallocgc}
 * ({@code largeAlloc}, now {@code mallocgcLarge}: a span straight from {@code mheap.alloc});
 * the dedicated mappings have no Go counterpart, since Go's heap grows by arenas for any size.
 * See {@code package-info.java} for the overview.
 *
 * <p>Synchronization: no mutable state of its own; the page heaps, the mappings and the profiler
 * each lock for themselves.
 */
final class LargeObjects {

    private final AddressRange range;
    /** One page heap per shard, in lock order. */
    private final PageHeap[] pageHeaps;
    private final DedicatedMappings dedicated;
    /** The sampled heap profile, or null when profiling is off. */
    private final HeapProfiler profiler;

    LargeObjects(AddressRange range, PageHeap[] pageHeaps, DedicatedMappings dedicated, HeapProfiler profiler) {
        this.range = range;
        this.pageHeaps = pageHeaps;
        this.dedicated = dedicated;
        this.profiler = profiler;
    }

    /**
     * Allocates {@code byteSize} bytes aligned to {@code byteAlignment} (a request of size class 0)
     * and returns the address with bit 0 set when the memory is known to be zero: cut from the run
     * of {@code pageCache}, the current thread's (null for a thread without one), when it fits
     * there, else from shard {@code shard}'s page heap (the current thread's,
     * {@link SlotAllocation#shardOfCurrentThread}).
     */
    long allocate(long byteSize, long byteAlignment, int shard, PageCache pageCache) {
        long alignPages = Math.max(1, byteAlignment >>> SizeClasses.PAGE_SHIFT);
        long pageCount = Math.max(1, (byteSize + SizeClasses.PAGE_MASK) >>> SizeClasses.PAGE_SHIFT);
        if (byteSize <= HeapArena.BYTES && pageCount + alignPages - 1 <= HeapArena.PAGES) {
            Span span = pageCache != null && alignPages == 1 ? pageCache.carve((int) pageCount, byteSize) : null;
            if (span == null) {
                span = pageHeaps[shard].allocateLarge(byteSize, (int) pageCount, (int) alignPages, pageCache);
            }
            if (pageCache != null) {
                pageCache.allocated(span);
            }
            sampledLarge(span, byteSize);
            return span.needsZero ? span.start : span.start | 1;
        }
        if (byteSize > Long.MAX_VALUE - byteAlignment - OsMemory.OS_PAGE_SIZE) {
            throw Errors.tooLarge("allocate", byteSize, byteAlignment);
        }
        long address = dedicated.map(byteSize, byteAlignment, Arena.ofShared());
        if (profiler != null) {
            long mappedBytes = dedicated.at(address).mappedBytes();
            if (profiler.drawBlock(mappedBytes)) {
                profiler.sampleDedicated(address, byteSize, mappedBytes);
            }
        }
        return address | 1;
    }

    /** The heap profile's draw (and sample) for {@code span}, a large object just handed out for {@code byteSize} bytes. */
    private void sampledLarge(Span span, long byteSize) {
        if (profiler != null && profiler.drawBlock(span.bytes())) {
            profiler.sampleLarge(span, byteSize);
        }
    }

    /**
     * Frees the large object at {@code address}, the start of large span {@code span} (its sample,
     * if any, already dropped): onto {@code pageCache}, the current thread's (null for a thread
     * without one), without a lock when {@link PageCache#freeWithoutLock} can, else through the
     * page heap that owns its arena, which lends its pages to that page cache when it is at most
     * {@link PageCache#maxPages} long and {@link PageCache#mayLend} allows (stack order), or indexes them.
     *
     * @throws IllegalArgumentException if it is not a live large object (a double free)
     */
    void free(Span span, long address, String operation, PageCache pageCache) {
        HeapArena arena = range.arenaAt(address);
        boolean freed;
        if (pageCache != null && span.pages <= pageCache.maxPages) {
            freed = pageCache.freeWithoutLock(arena, span, operation) || (pageCache.mayLend(arena, span)
                    ? arena.owner.freeLargeIntoCache(arena, span, address, pageCache) : arena.owner.freeLarge(arena, span, address));
        } else {
            freed = arena.owner.freeLarge(arena, span, address);
        }
        if (!freed) {
            throw Errors.inFreePages(operation, address);
        }
    }

    /**
     * Frees a segment whose scope is not the heap's range: it must be a dedicated mapping's,
     * with that mapping's own scope.
     */
    void freeMappedSegment(MemorySegment segment) {
        DedicatedMappings.Mapping mapping = dedicated.at(segment.address());
        if (mapping == null || !segment.scope().equals(mapping.scope().scope())) {
            throw Errors.foreignSegment("free", segment);
        }
        freeDedicated(segment.address(), "free");
    }

    /** Frees an address outside the heap's range, which must start a dedicated mapping. */
    void freeDedicated(long address, String operation) {
        if (profiler != null) {
            profiler.dropDedicated(address);
        }
        if (dedicated.unmap(address) == null) {
            throw Errors.notFromHeap(operation, address);
        }
    }

    /** The mapped bytes of the dedicated mapping at {@code address} (outside the heap's range). */
    long mappedBytes(long address) {
        DedicatedMappings.Mapping mapping = dedicated.at(address);
        if (mapping == null) {
            throw Errors.notFromHeap("usableSize", address);
        }
        return mapping.mappedBytes();
    }
}
