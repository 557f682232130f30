package dev.spanheap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The spans of one size class that have free slots, and the exchange of slots between those spans
 * and the thread caches; Go's {@code mcentral}. A thread cache takes slots in batches
 * ({@link #refill}) and gives them back in batches ({@link #giveBack}); a span that fills up leaves
 * the partial list, and a span whose last slot comes back returns to the {@link PageHeap}, except
 * that a few empty spans per class are kept as spares, enough to hold one full thread-cache stack
 * of the class (so that a producer/consumer pair does not make and unmake spans every few slots);
 * in checked mode every empty span is kept. While the list has had to take new spans from the
 * page heap since the scavenger's last pass began (one tick of {@link AddressRange#coarseNanos}),
 * every span that empties is kept: the class is growing or cycling, and will want it back (a batch
 * of 1000 blocks of 4 KiB made and unmade 500 spans per round without this). The surplus over the
 * spares goes back at the first batch returned after a tick without new spans, and all spares at
 * the next {@link #releaseEmptySpans} (from {@code releaseFreeMemory()}, the scavenger once slot
 * traffic has stopped, or an allocation about to fail at the limit).
 *
 * <p>Departure from Go: Go's mcache holds a whole span per class and the garbage collector sweeps;
 * with explicit frees from any thread, moving slot batches (as TCMalloc's central free lists do)
 * keeps a freed slot of the thread's own shard usable by the freeing thread at once; slots of other
 * shards that may share a cache line wait in the freeing cache's remote buffer (see {@link ThreadCache}).
 *
 * <p>Each shard of the heap has its own list per class (see {@link CentralLists}), whose spans
 * come from the shard's page heap; a slot always goes back to the list of the shard that owns its
 * span.
 *
 * <p>Synchronization: everything here, and the slot fields of this class's spans, are guarded by
 * the monitor of {@link #lock}. Lock order: a central-list lock, then the page heap lock.
 */
final class CentralList {

    /** Poison written over a freed slot in checked mode. */
    static final long POISON = 0xDEADBEEFDEADBEEFL;

    final int sizeClass;
    /**
     * The class's lock, a plain monitor: a contended {@code ReentrantLock} allocates a queue node
     * per waiter on the Java heap, which showed up as garbage (and RSS) on the cross-thread
     * workloads; a contended monitor inflates into native memory instead.
     */
    final Object lock = new Object();
    /**
     * The page heap of this list's shard, which its spans come from (directly, or borrowed
     * through it from another page heap's runs); a span goes back to the page heap that owns its
     * arena.
     */
    private final PageHeap pageHeap;
    private final AddressRange range;
    private final MemorySegment memory;
    private final long memoryBase;
    /** Checked mode: every empty span stays here until {@link #releaseEmptySpans}. */
    private final boolean checked;
    /** Empty spans kept on the partial list (at most {@link #maxSpareSpans} in default mode). Guarded by the lock. */
    private int emptySpans;
    /** Spare empty spans kept in default mode: enough for one full thread-cache stack of the class. */
    final int maxSpareSpans;
    /** The coarse clock's value when this list last took new spans from the page heap. Guarded by the lock. */
    private long newSpansTick = Long.MIN_VALUE;

    /** Most new spans one refill takes from the page heap at once. */
    static final int NEW_SPANS_MAX = 16;
    /**
     * New spans on their way from the page heap, or empty spans gathered by {@link #giveBack} on
     * their way back ({@link #gatheredSpans} of them). Guarded by the lock.
     */
    private final Span[] spanScratch = new Span[NEW_SPANS_MAX];
    private int gatheredSpans;

    /** Head of the intrusive list of spans with at least one free slot, lowest address not implied. */
    private Span partialHead;

    // Counters, guarded by the lock.
    private long spans;
    /** Slots marked allocated in this class's spans (live objects plus slots held by thread caches). */
    private long allocatedSlots;
    private long refillsFromPartial;
    private long refillsFromNewSpan;
    private long slotsRefilled;
    private long slotsGivenBack;
    private long doubleFreesDetected;
    /** Checked mode: slots found written after free, kept allocated and never handed out again. */
    private long quarantinedSlots;
    /** Checked mode: allocations and frees that went straight to this list. */
    private long directAllocations;
    private long directFrees;

    CentralList(int sizeClass, PageHeap pageHeap, AddressRange range, MemorySegment memory, long memoryBase, boolean checked) {
        this.sizeClass = sizeClass;
        this.range = range;
        this.checked = checked;
        this.maxSpareSpans = Math.max(1, Math.ceilDiv(ThreadCache.CAPACITY[sizeClass], SizeClasses.SLOTS_PER_SPAN[sizeClass]));
        this.pageHeap = pageHeap;
        this.memory = memory;
        this.memoryBase = memoryBase;
    }

    /**
     * Moves up to {@code count} free slots into {@code dest[offset ..]}, each address tagged with
     * bit 0 set when the slot is known to be zero. Returns how many it moved, which is at least
     * one; takes a new span from the page heap when no partial span is left.
     */
    int refill(long[] dest, int offset, int count) {
        synchronized (lock) {
            boolean newSpan = false;
            int moved = 0;
            while (moved < count) {
                Span span = partialHead;
                if (span == null) {
                    // Enough new spans for the rest of the request, in one page heap call.
                    try {
                        takeNewSpans(Math.min(NEW_SPANS_MAX, Math.ceilDiv(count - moved, SizeClasses.SLOTS_PER_SPAN[sizeClass])));
                    } catch (OutOfMemoryError e) {
                        if (moved == 0) {
                            throw e;
                        }
                        // The slots already taken are the refill: counted below and handed to the caller.
                        break;
                    }
                    span = partialHead;
                    newSpan = true;
                }
                while (moved < count && !span.isFull()) {
                    if (span.allocatedSlots == 0) {
                        emptySpans--;
                    }
                    int slot = span.takeSlot();
                    long address = span.slotAddress(slot);
                    dest[offset + moved++] = span.takeIsZero(slot) ? address | 1 : address;
                }
                if (span.isFull()) {
                    unlinkPartial(span);
                }
            }
            allocatedSlots += moved;
            slotsRefilled += moved;
            if (newSpan) {
                refillsFromNewSpan++;
            } else {
                refillsFromPartial++;
            }
            return moved;
        }
    }

    /**
     * Takes back {@code count} slots from {@code addresses[offset ..]} (tag bits ignored). A slot
     * that is already free is a double free that slipped past a thread cache: it is skipped and
     * counted, and the heap stays consistent.
     */
    void giveBack(long[] addresses, int offset, int count) {
        synchronized (lock) {
            for (int i = 0; i < count; i++) {
                long address = addresses[offset + i] & ~1L;
                Span span = range.spanAt(address);
                int slot = slotOf(span, address);
                if (slot < 0 || !span.isAllocated(slot)) {
                    doubleFreesDetected++;
                    continue;
                }
                returnSlot(span, slot);
            }
            if (!checked && emptySpans > maxSpareSpans && !tookNewSpansThisTick()) {
                gatherEmptySpans(maxSpareSpans);
            }
            freeGatheredSpans();
            slotsGivenBack += count;
        }
    }

    /** Checked mode: one slot straight from the spans, its poison verified; returns the address. */
    long allocateChecked() {
        synchronized (lock) {
            Span span = partialHead;
            boolean fresh = span == null;
            if (fresh) {
                span = newSpan();
            }
            if (span.allocatedSlots == 0) {
                emptySpans--;
            }
            int slot = span.takeSlot();
            boolean zero = span.takeIsZero(slot);
            if (span.isFull()) {
                unlinkPartial(span);
            }
            allocatedSlots++;
            if (fresh) {
                refillsFromNewSpan++;
            } else {
                refillsFromPartial++;
            }
            long address = span.slotAddress(slot);
            long bit = 1L << slot;
            if ((span.poisoned[slot >>> 6] & bit) != 0) {
                span.poisoned[slot >>> 6] &= ~bit;
                long broken = firstUnpoisoned(address, span.slotSize);
                if (broken >= 0) {
                    // Quarantine: the slot stays allocated and is never handed out again.
                    quarantinedSlots++;
                    throw Errors.writeAfterFree(address, span.slotSize, broken,
                            memory.get(ValueLayout.JAVA_LONG_UNALIGNED, address - memoryBase + broken));
                }
            }
            directAllocations++;
            return zero ? address | 1 : address;
        }
    }

    /** Checked mode: frees one slot, catching every double free, and poisons it. */
    void freeChecked(long address, Span span, int slot) {
        synchronized (lock) {
            if (range.spanAt(address) != span || slotOf(span, address) != slot || !span.isAllocated(slot)) {
                throw Errors.doubleFree("free", address, span);
            }
            MemorySegment slotMemory = memory.asSlice(address - memoryBase, span.slotSize);
            for (long off = 0; off + 8 <= span.slotSize; off += 8) {
                slotMemory.set(ValueLayout.JAVA_LONG_UNALIGNED, off, POISON);
            }
            span.poisoned[slot >>> 6] |= 1L << slot;
            directFrees++;
            returnSlot(span, slot);
            freeGatheredSpans();
        }
    }

    /** Checked mode: the offset of the first word of a poisoned slot that lost its poison, or -1. */
    long firstUnpoisoned(long address, int slotSize) {
        for (long off = 0; off + 8 <= slotSize; off += 8) {
            if (memory.get(ValueLayout.JAVA_LONG_UNALIGNED, address - memoryBase + off) != POISON) {
                return off;
            }
        }
        return -1;
    }

    /** Whether {@code address} is an allocated slot of one of this list's spans, looked up under the lock. */
    boolean isAllocated(long address) {
        synchronized (lock) {
            Span span = range.spanAt(address);
            int slot = slotOf(span, address);
            return slot >= 0 && span.isAllocated(slot);
        }
    }

    /**
     * The slot of {@code address} in {@code span} if the span is an in-use span of this class
     * starting a slot there, else -1. Holding the lock, which guards this class's spans: a span
     * structure being reused for another class or a large object fails the class check.
     */
    private int slotOf(Span span, long address) {
        return span == null || !span.inUse || span.sizeClass != sizeClass ? -1 : span.slotOf(address);
    }

    private void returnSlot(Span span, int slot) {
        boolean wasFull = span.isFull();
        span.returnSlot(slot);
        allocatedSlots--;
        if (span.allocatedSlots == 0) {
            if (checked || emptySpans < maxSpareSpans || tookNewSpansThisTick()) {
                // Kept as the class's spare, or surplus while the class takes new spans (checked mode: kept for checking).
                emptySpans++;
                if (wasFull) {
                    linkPartial(span);
                }
            } else {
                if (!wasFull) {
                    unlinkPartial(span);
                }
                spans--;
                // Gathered, so that a batch coming back frees its spans in one page heap call.
                gather(span);
            }
        } else if (wasFull) {
            linkPartial(span);
        }
    }

    private Span newSpan() {
        takeNewSpans(1);
        return partialHead;
    }

    /** Takes between 1 and {@code wanted} new spans from the page heap onto the partial list. */
    private void takeNewSpans(int wanted) {
        int taken = pageHeap.allocateSmallSpans(sizeClass, pageHeap.index, spanScratch, wanted);
        for (int i = 0; i < taken; i++) {
            linkPartial(spanScratch[i]);
            spanScratch[i] = null;
        }
        spans += taken;
        emptySpans += taken;
        newSpansTick = range.coarseNanos();
    }

    /** Whether this list has taken new spans in the coarse clock's current tick (it keeps every span that empties then). */
    private boolean tookNewSpansThisTick() {
        return newSpansTick == range.coarseNanos();
    }

    /** Adds an empty span, already off the partial list, to those {@link #freeGatheredSpans} returns. */
    private void gather(Span span) {
        if (gatheredSpans == spanScratch.length) {
            freeGatheredSpans();
        }
        spanScratch[gatheredSpans++] = span;
    }

    /** Returns the empty spans gathered in {@link #spanScratch} to the page heaps that own them, one call per owner. */
    private void freeGatheredSpans() {
        int from = 0;
        while (from < gatheredSpans) {
            PageHeap owner = range.arenaOfPage(spanScratch[from].firstPage).owner;
            int to = from + 1;
            while (to < gatheredSpans && range.arenaOfPage(spanScratch[to].firstPage).owner == owner) {
                to++;
            }
            owner.freeSmallSpans(spanScratch, from, to);
            from = to;
        }
        Arrays.fill(spanScratch, 0, gatheredSpans, null);
        gatheredSpans = 0;
    }

    private void linkPartial(Span span) {
        span.previousPartial = null;
        span.nextPartial = partialHead;
        if (partialHead != null) {
            partialHead.previousPartial = span;
        }
        partialHead = span;
        span.inPartialList = true;
    }

    private void unlinkPartial(Span span) {
        if (span.previousPartial != null) {
            span.previousPartial.nextPartial = span.nextPartial;
        } else {
            partialHead = span.nextPartial;
        }
        if (span.nextPartial != null) {
            span.nextPartial.previousPartial = span.previousPartial;
        }
        span.previousPartial = null;
        span.nextPartial = null;
        span.inPartialList = false;
    }

    /**
     * Returns the empty spans kept here (the spare; in checked mode, all of them, kept so that their
     * poisoned slots stay checkable and a late double free still finds its span) to the page heap.
     */
    void releaseEmptySpans() {
        synchronized (lock) {
            gatherEmptySpans(0);
            freeGatheredSpans();
        }
    }

    /** Takes empty spans off the partial list, to be freed with the gathered ones, until {@code keep} are left. Holding the lock. */
    private void gatherEmptySpans(int keep) {
        Span span = partialHead;
        while (span != null && emptySpans > keep) {
            Span next = span.nextPartial;
            if (span.allocatedSlots == 0) {
                unlinkPartial(span);
                spans--;
                emptySpans--;
                gather(span);
            }
            span = next;
        }
    }

    /** What this list counts, read under its lock. */
    record Snapshot(long spans, long allocatedSlots, long directAllocations, long directFrees, long quarantinedSlots,
            long refillsFromPartial, long refillsFromNewSpan, long doubleFreesDetected) {
    }

    Snapshot snapshot() {
        synchronized (lock) {
            return new Snapshot(spans, allocatedSlots, directAllocations, directFrees, quarantinedSlots,
                    refillsFromPartial, refillsFromNewSpan, doubleFreesDetected);
        }
    }

    /** Slots moved in and out so far, read without the lock (a heuristic: it may be stale). */
    long racySlotTraffic() {
        return slotsRefilled + slotsGivenBack;
    }

    /** Checks the partial list against the spans' own state, holding the lock; null if all is well. */
    String verify() {
        synchronized (lock) {
            int listed = 0;
            int empty = 0;
            for (Span s = partialHead; s != null; s = s.nextPartial) {
                if (!s.inPartialList || s.isFull() || s.sizeClass != sizeClass) {
                    return "class " + sizeClass + ": partial list holds " + s + " with " + s.allocatedSlots + "/" + s.capacity;
                }
                if (s.allocatedSlots == 0) {
                    empty++;
                }
                if (++listed > spans) {
                    return "class " + sizeClass + ": partial list is longer than the " + spans + " spans (a cycle?)";
                }
            }
            if (empty != emptySpans) {
                return "class " + sizeClass + ": " + empty + " empty spans listed, count says " + emptySpans;
            }
            return null;
        }
    }
}
