package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The tests' window into a heap: the package-private verification and cache hooks of
 * {@link SpanHeap}, and the few internal constants the tests state bounds with. Lives in package
 * {@code dev.spanheap} (on the class path, the same runtime package as the core) for that reason.
 */
final class HeapProbe {

    /** Bytes one thread cache may hold at most (see {@link ThreadCache#MAX_CACHED_BYTES}). */
    static final long MAX_CACHED_BYTES_PER_CACHE = ThreadCache.MAX_CACHED_BYTES;
    static final long ARENA_BYTES = HeapArena.BYTES;
    static final long PAGE_BYTES = SizeClasses.PAGE_SIZE;
    static final int MAX_SMALL_SIZE = SizeClasses.MAX_SMALL_SIZE;

    private HeapProbe() {
    }

    /** Throws {@link IllegalStateException} naming the first broken invariant. Only while no other thread uses the heap. */
    static void verify(SpanHeap heap) {
        heap.verifyInvariants();
    }

    /** Gives back every cache this thread may touch: its own, those of ended threads, the shared ones. */
    static void flushCaches(SpanHeap heap) {
        heap.flushReachableCaches();
    }

    static void flushOwnCache(SpanHeap heap) {
        heap.flushCurrentThreadCache();
    }

    static void reclaimDeadCaches(SpanHeap heap) {
        heap.reclaimDeadCaches();
    }

    static long scavengeOnce(SpanHeap heap) {
        return heap.scavengeOnce();
    }

    /**
     * An unstarted platform thread running {@code body} whose id equals {@code owner}'s modulo
     * {@code mask + 1}: it lands on {@code owner}'s entry of a table indexed by {@code threadId &
     * mask} (the thread caches', {@link ThreadCacheRegistry#INDEX_MASK}; the stacks',
     * {@link ThreadStacks#TABLE_MASK}). Ids are handed out at construction, so this builds threads
     * until one does, about a table's size of them; the others are never started.
     */
    static Thread unstartedThreadOnTheEntryOf(Thread owner, int mask, Runnable body) {
        while (true) {
            Thread candidate = Thread.ofPlatform().unstarted(body);
            if (((candidate.threadId() ^ owner.threadId()) & mask) == 0) {
                return candidate;
            }
        }
    }

    /** Start of the heap's reserved address range. */
    static long base(SpanHeap heap) {
        return heap.addressRange().base;
    }

    /** Whether {@code [address, address + size)} lies in the heap's arenas or in one of its dedicated mappings. */
    static boolean holds(SpanHeap heap, long address, long size) {
        AddressRange range = heap.addressRange();
        long offset = address - range.base;
        long length = Math.max(1, size);
        if (offset >= 0 && offset + length <= range.addressSpaceBytes) {
            return range.contains(address) && range.contains(address + length - 1);
        }
        DedicatedMappings.Mapping mapping = heap.dedicatedMappings().at(address);
        return mapping != null && mapping.mappedBytes() >= length;
    }

    /** Size class slot sizes, 1..66 (index 0 unused). */
    static int slotSize(int sizeClass) {
        return SizeClasses.SLOT_SIZE[sizeClass];
    }

    static int classCount() {
        return SizeClasses.CLASS_COUNT;
    }

    /**
     * After everything is freed: flushes the caches and checks that the heap holds nothing: no
     * live object, no page in a span, nothing cached, every arena page free.
     */
    static void assertEmptyAfterFlush(SpanHeap heap) {
        heap.flushReachableCaches();
        heap.verifyInvariants();
        HeapStats stats = heap.stats();
        assertEquals(0, stats.liveObjects(), () -> "live objects after freeing everything: " + stats);
        assertEquals(0, stats.spanBytes(), () -> "pages still in spans after freeing everything: " + stats);
        assertEquals(0, stats.cachedBytes(), () -> "bytes still cached after flushing: " + stats);
        assertEquals(0, stats.dedicatedObjects(), () -> "dedicated mappings left: " + stats);
        assertEquals((long) stats.arenas() * ARENA_BYTES, stats.freePageBytes(), () -> "not every page is free: " + stats);
    }

    /** The offset of the first non-zero byte of {@code segment}, or -1 if every byte is zero. */
    static long firstNonZero(MemorySegment segment) {
        long size = segment.byteSize();
        long i = 0;
        for (; i + 8 <= size; i += 8) {
            if (segment.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != 0) {
                break;
            }
        }
        for (; i < size; i++) {
            if (segment.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return i;
            }
        }
        return -1;
    }
}
