package dev.spanheap;

import java.lang.foreign.MemorySegment;

/**
 * The central tier: one {@link CentralList} per size class in each shard, and the routing of
 * slots between thread caches and the list that owns them; Go's {@code mheap.central} array,
 * sharded as jemalloc shards its bins by arena. See {@code package-info.java} for the overview.
 *
 * <p>A cache refills from the lists of its own shard. Slots go back to the list that holds their
 * span ({@link Span#listShard}), so a block freed by a thread of another shard still returns
 * home, and a batch that mixes shards is split into runs, one lock per run.
 *
 * <p>Synchronization: none of its own; each list has its lock.
 */
final class CentralLists {

    private final CentralList[][] lists;
    private final AddressRange range;

    /** Per-class figures over every shard, read under each list's lock in turn. */
    record ClassSnapshot(long spans, long allocatedSlots, long directAllocations, long directFrees,
            long quarantinedSlots, long refillsFromPartial, long refillsFromNewSpan, long doubleFreesDetected) {
    }

    CentralLists(PageHeap[] pageHeaps, AddressRange range, MemorySegment memory, boolean checked) {
        this.range = range;
        this.lists = new CentralList[pageHeaps.length][SizeClasses.CLASS_COUNT];
        for (int shard = 0; shard < pageHeaps.length; shard++) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                lists[shard][c] = new CentralList(c, pageHeaps[shard], range, memory, range.base, checked);
            }
        }
    }

    int shards() {
        return lists.length;
    }

    /** Class {@code c}'s list in {@code shard}. */
    CentralList of(int shard, int c) {
        return lists[shard][c];
    }

    /** Class {@code c}'s list that holds the span of {@code address} (an address inside the mapped range). */
    CentralList owning(long address, int c) {
        return lists[shardOf(address)][c];
    }

    /**
     * The shard whose lists hold {@code address}'s span: from its page-table entry (one load),
     * which a small span's pages carry; for an address that is not in a small span (a double free
     * that slipped past a cache), the arena's shard, whose list then rejects it.
     */
    private int shardOf(long address) {
        long page = (address - range.base) >>> SizeClasses.PAGE_SHIFT;
        int[] info = range.pageInfo;
        int entry = page < info.length ? info[(int) page] : 0;
        return (entry & 0xFF) != 0 ? entry >>> PageHeap.LIST_SHARD_SHIFT : range.arenaAt(address).owner.index;
    }

    /** Gives {@code count} slots of class {@code c} from {@code addresses[offset ..]} back to their shards' lists. */
    void giveBack(int c, long[] addresses, int offset, int count) {
        int end = offset + count;
        int runStart = offset;
        while (runStart < end) {
            int shard = shardOf(addresses[runStart] & ~1L);
            int runEnd = runStart + 1;
            while (runEnd < end && shardOf(addresses[runEnd] & ~1L) == shard) {
                runEnd++;
            }
            lists[shard][c].giveBack(addresses, runStart, runEnd - runStart);
            runStart = runEnd;
        }
    }

    /** Returns every list's spare empty spans to its page heap. */
    void releaseEmptySpans() {
        for (CentralList[] shard : lists) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                shard[c].releaseEmptySpans();
            }
        }
    }

    /** Slots moved between caches and lists so far, every class and shard (racy reads: a heuristic for the scavenger). */
    long racySlotTraffic() {
        long traffic = 0;
        for (CentralList[] shard : lists) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                traffic += shard[c].racySlotTraffic();
            }
        }
        return traffic;
    }

    ClassSnapshot snapshot(int c) {
        long spans = 0, allocated = 0, directAllocations = 0, directFrees = 0, quarantined = 0;
        long fromPartial = 0, fromNewSpan = 0, doubleFrees = 0;
        for (CentralList[] shard : lists) {
            CentralList.Snapshot s = shard[c].snapshot();
            spans += s.spans();
            allocated += s.allocatedSlots();
            directAllocations += s.directAllocations();
            directFrees += s.directFrees();
            quarantined += s.quarantinedSlots();
            fromPartial += s.refillsFromPartial();
            fromNewSpan += s.refillsFromNewSpan();
            doubleFrees += s.doubleFreesDetected();
        }
        return new ClassSnapshot(spans, allocated, directAllocations, directFrees, quarantined, fromPartial,
                fromNewSpan, doubleFrees);
    }

    /** Each list's own check; the first problem found, or null. */
    String verify() {
        for (CentralList[] shard : lists) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                String problem = shard[c].verify();
                if (problem != null) {
                    return problem;
                }
            }
        }
        return null;
    }

    /**
     * Runs {@code action} holding every central-list lock (shard by shard, in class order) and
     * then every page heap lock: a consistent view of all spans, for verification and snapshots.
     */
    <T> T withEveryLock(java.util.function.Supplier<T> action) {
        return holdFrom(0, 1, action);
    }

    private <T> T holdFrom(int shard, int c, java.util.function.Supplier<T> action) {
        if (shard < lists.length) {
            synchronized (lists[shard][c].lock) {
                return c + 1 < SizeClasses.CLASS_COUNT ? holdFrom(shard, c + 1, action) : holdFrom(shard + 1, 1, action);
            }
        }
        PageHeap[] heaps = range.pageHeaps();
        for (PageHeap heap : heaps) {
            heap.lock.lock();
        }
        try {
            return action.get();
        } finally {
            for (PageHeap heap : heaps) {
                heap.lock.unlock();
            }
        }
    }
}
