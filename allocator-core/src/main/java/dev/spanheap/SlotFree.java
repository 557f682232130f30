package dev.spanheap;

/**
 * Routes a small slot freed off the fast path to the right cache or central list: a slot of
 * another shard (its remote buffer, or the freeing thread's stack), a virtual thread's slot (its
 * CPU's shared cache, under that cache's lock), and the slow path's slot once its checks pass
 * (after the double-free check to a cache, or in checked mode to its central list, which poisons it).
 * Go has no counterpart (its collector sweeps spans instead of taking frees); the split of a
 * local free from a foreign one is mimalloc's. The own-shard push itself stays in
 * {@link SpanHeap#freeAddress}, whose check ({@link SpanHeap#startsOwnShardSlot}) uses
 * {@link #isSlotStart}. See {@code package-info.java} for the overview.
 *
 * <p>Synchronization: no mutable state of its own; a shared cache is used under its
 * {@link ThreadCache#sharedLock}, a span's bitmap is read racily where it says so, and the tiers
 * below lock for themselves.
 */
final class SlotFree {

    /** {@code SLOT_AREA_END[c]}: bytes of a class-c span covered by slots; a slot starts below it. */
    private static final long[] SLOT_AREA_END = new long[SizeClasses.CLASS_COUNT];
    /** Bytes of a cache line, the unit two threads' writes can falsely share. */
    private static final int CACHE_LINE = 64;
    /**
     * {@code SHARES_CACHE_LINES[c]}: a class-c slot may share a cache line with a neighbouring
     * slot (its size is not a multiple of 64; spans start on page boundaries, so other slots fill
     * whole lines). Only such slots, freed by a thread of another shard, must go home.
     */
    private static final boolean[] SHARES_CACHE_LINES = new boolean[SizeClasses.CLASS_COUNT];

    static {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            SLOT_AREA_END[c] = (long) SizeClasses.SLOT_SIZE[c] * SizeClasses.SLOTS_PER_SPAN[c];
            SHARES_CACHE_LINES[c] = SizeClasses.SLOT_SIZE[c] % CACHE_LINE != 0;
        }
    }

    private final boolean checked;
    private final AddressRange range;
    private final CentralLists centrals;
    private final ThreadCacheRegistry registry;

    SlotFree(boolean checked, AddressRange range, CentralLists centrals, ThreadCacheRegistry registry) {
        this.checked = checked;
        this.range = range;
        this.centrals = centrals;
        this.registry = registry;
    }

    /** Whether {@code inSpan}, an offset in a class-{@code sizeClass} span, starts one of its slots. */
    static boolean isSlotStart(long inSpan, int sizeClass) {
        return inSpan < SLOT_AREA_END[sizeClass] && SizeClasses.isSlotMultiple(inSpan, sizeClass);
    }

    /**
     * The free of a slot of another shard by a thread with its own cache, checked from the page
     * table as the fast path checks (a slot start of a small span): a slot that may share a cache
     * line with its neighbours goes to the remote buffer, to go home (reused here, it would put
     * this thread's writes on a line the other shard's thread may be writing); a slot that fills
     * whole lines is pushed on this cache as a slot of its own shard would be (it goes home when
     * the stack drains). False, with nothing done, for anything else (which takes the slow path).
     */
    boolean freeRemote(ThreadCache cache, long offset, int entry, long address) {
        int sizeClass = entry & 0xFF;
        if (!isSlotStart(slotOffsetInSpan(offset, entry), sizeClass)) {
            return false;
        }
        pushOtherShardsSlot(cache, sizeClass, address);
        return true;
    }

    /**
     * The free of a small slot by a virtual thread, straight from the page table as the fast
     * path's check goes, into the shared cache of its CPU under that cache's lock; the span is
     * looked at only for the double-free check the slow path makes (a slot already back in its
     * span is refused there, with the message): the slow path's generic lookups were what a profile
     * of 1000 virtual threads showed (docs/benchmarks.md). False, with nothing
     * done, for anything else: a platform thread without its cache, checked mode, a large object,
     * a sampled span, a slot back in its span. A closed heap never gets here: its page table is
     * empty ({@link AddressRange#unmapAll}), so the caller's bound check sends its frees to the slow
     * path, which throws.
     */
    boolean freeVirtual(long offset, int entry, long address) {
        int sizeClass = entry & 0xFF;
        long inSpan = slotOffsetInSpan(offset, entry);
        if (checked || !isSlotStart(inSpan, sizeClass) || !Thread.currentThread().isVirtual()) {
            return false;
        }
        // Read without a lock, as spanAt reads it: a stale span fails the bitmap test or is
        // caught when its slot reaches the central list.
        HeapArena arena = range.arenas[(int) (offset >>> HeapArena.SHIFT)];
        Span span = arena == null ? null
                : arena.spans[(int) ((offset >>> SizeClasses.PAGE_SHIFT) & (HeapArena.PAGES - 1)) - (int) (inSpan >>> SizeClasses.PAGE_SHIFT)];
        if (span == null || !span.isAllocatedRacy((int) Math.unsignedMultiplyHigh(inSpan, SizeClasses.DIVISIBILITY[sizeClass]))) {
            return false;
        }
        pushShared(registry.sharedCacheOfCpu(), sizeClass, address);
        return true;
    }

    /**
     * The free of a slot that the slow path found to start a slot of small span {@code span}
     * (its sample, if any, already dropped): in checked mode to its central list, which checks
     * and poisons it; otherwise, after the double-free check, to the current thread's cache.
     *
     * @throws IllegalArgumentException if the slot is already back in its span (a double free)
     */
    void freeSlot(Span span, long address, String operation) {
        int slot = span.slotOf(address);
        if (checked) {
            centrals.owning(address, span.sizeClass).freeChecked(address, span, slot);
            return;
        }
        // A slot already back in its span is a double free: seen without the span's lock, since a
        // legal free was handed its slot through a lock after the bit was set.
        if (!span.isAllocatedRacy(slot)) {
            throw Errors.doubleFree(operation, address, span);
        }
        ThreadCache cache = registry.cacheForCurrentThread();
        if (cache.owner != null) {
            // A thread's first free (its cache was just made): the fast path's choice, once.
            if (span.listShard != cache.shard) {
                pushOtherShardsSlot(cache, span.sizeClass, address);
            } else {
                pushOrDrain(cache, span.sizeClass, address);
            }
            return;
        }
        pushShared(cache, span.sizeClass, address);
    }

    /**
     * Where {@code offset} (from the heap's base) lies in its small span, from the page's
     * page-table {@code entry} (whatever its shard); far past any slot area for a page with the
     * sampled-span bit, and inside no slot area for a free or large page (class 0).
     */
    private static long slotOffsetInSpan(long offset, int entry) {
        return (offset & SizeClasses.PAGE_MASK) | (long) ((entry >>> 8) & PageHeap.PAGE_FIELD_MASK) << SizeClasses.PAGE_SHIFT;
    }

    /** Frees a slot of another shard's span into {@code cache}: remote buffer or stack, as {@link #freeRemote} explains. */
    private void pushOtherShardsSlot(ThreadCache cache, int sizeClass, long address) {
        if (SHARES_CACHE_LINES[sizeClass]) {
            cache.pushRemote(sizeClass, address, centrals);
        } else {
            pushOrDrain(cache, sizeClass, address);
        }
    }

    /** Pushes a slot on {@code cache}, a shared cache, under its lock. */
    private void pushShared(ThreadCache cache, int sizeClass, long address) {
        cache.sharedLock.lock();
        try {
            pushOrDrain(cache, sizeClass, address);
        } finally {
            cache.sharedLock.unlock();
        }
    }

    private void pushOrDrain(ThreadCache cache, int sizeClass, long address) {
        if (!cache.push(sizeClass, address)) {
            cache.drainHalfAndPush(sizeClass, centrals, address);
        }
    }
}
