package dev.spanheap;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The heap's reserved address range, shared by all its page heaps: the arenas mapped inside it,
 * the flat page table that the free fast path reads, and the count of bytes held from the OS that
 * {@code maxHeapBytes} limits; Go's {@code mheap.arenas} and the memory-limit accounting. See
 * {@code package-info.java} for the overview.
 *
 * <p><b>One range, many page heaps.</b> At creation the heap reserves one range of address space
 * (PROT_NONE, 64 MiB-aligned; smaller than configured under an address-space limit, see
 * {@link RangeReservation}, and never a second one: docs/design.md, "Address-space limits"). Arenas are mapped read/write inside it in index order, each
 * owned by the {@link PageHeap} that asked for it: no two page heaps ever share an arena, so each
 * page heap's lock guards its arenas' pages and nothing else. Because the range is contiguous,
 * a page's index is {@code (address - base) >>> 13}, and one flat table ({@link #pageInfo})
 * answers "which size class, and which page of its span" with a single load.
 *
 * <p><b>Held bytes.</b> {@link #heldBytes} = pages in spans + dirty free pages + dedicated
 * mappings, over every page heap. It changes only when clean pages go into a span, when pages are
 * released, and when a dedicated mapping comes or goes, so page heaps update it with one atomic
 * add on those (rarer) events, and {@link #tryHold} is the one place the limit is enforced.
 *
 * <p>Synchronization: {@link #arenas} entries and {@link #arenaCount} are written under
 * {@link #growLock} and read without it (an arena is published before any address in it is handed
 * out, through a lock). {@link #pageInfo} entries are written by the page heap that owns their
 * arena, under its lock; the array is replaced only by {@link #mapArena}, holding every page heap's
 * lock, so no entry written meanwhile is lost.
 */
final class AddressRange {

    final long base;
    /** Bytes reserved: the configured size, or less when the OS refused it (see {@link RangeReservation}). */
    final long addressSpaceBytes;
    final int maxArenas;
    final long maxHeapBytes;

    /** Arenas by index; each entry is set once, under {@link #growLock}, and read without it. */
    final HeapArena[] arenas;
    /** Arenas mapped. Written under {@link #growLock}, read racily by {@link #contains}. */
    volatile int arenaCount;
    /** Arenas mapped since creation (each one a 64 MiB mmap). Guarded by {@link #growLock}. */
    private long arenaReservations;

    /**
     * Per page of the mapped arenas: {@code sizeClass | pageInSpan << 8 | listShard << 24} for a
     * page of a small span ({@link Span#listShard}), with {@link PageHeap#SAMPLED_SPAN_BIT} (bit
     * 23) set while the span holds a live sample of the heap profile; 0 for a free page and for
     * every page of a large span. {@link #spanAt} uses {@code pageInSpan} to find a small span's first page, the
     * only one whose {@link HeapArena#spans} entry is set. Readers
     * load the field without a lock: an address that a thread may legally free was handed out
     * after the entries for its span were written, through a lock, so the reader sees them.
     */
    int[] pageInfo = new int[HeapArena.PAGES];
    /**
     * Told the new array whenever {@link #pageInfo} is replaced, so that the free fast path can keep
     * it in a field of its own, one load closer. Set once before first use.
     */
    java.util.function.Consumer<int[]> pageInfoReplaced = info -> { };

    /**
     * A coarse clock for the scavenger's idle test, refreshed by each scavenger pass (and when an
     * arena is mapped): freeing a span stamps its run with this instead of calling
     * System.nanoTime on every free (a clock read per span freed). A run therefore looks idle for up to one pass
     * period longer than it has been. Written and read racily; only a heuristic depends on it.
     */
    private volatile long coarseNanos = System.nanoTime();

    private final ReentrantLock growLock = new ReentrantLock();
    /** Every page heap of the range, in lock order; set once before first use. */
    private PageHeap[] pageHeaps = new PageHeap[0];
    /** Bytes held from the OS by every page heap and dedicated mapping together. */
    private final AtomicLong heldBytes = new AtomicLong();
    /** Bytes the configuration asked to reserve; more than {@link #addressSpaceBytes} when the range was cut short. */
    final long requestedAddressSpaceBytes;
    /**
     * Held bytes from which the heap asks for huge pages ({@link SpanHeapConfig#hugePagesFromBytes()});
     * {@code Long.MAX_VALUE}, never, when they are off or the kernel's THP mode ignores the advice.
     */
    final long hugePagesFromBytes;
    /**
     * Whether the heap asks for huge pages now: every mapped arena is advised MADV_HUGEPAGE, as is
     * each new one and each new dedicated mapping, and the scavenger keeps 2 MiB regions whole.
     * Set once, when held bytes first reach {@link #hugePagesFromBytes} ({@link #startHugePages}).
     */
    volatile boolean hugePages;
    private final Object hugePagesLock = new Object();
    /** The heap's configured name, for the JFR events this range and its page heaps emit. */
    final String heapName;

    AddressRange(SpanHeapConfig config) {
        RangeReservation reservation = RangeReservation.reserve(config);
        this.addressSpaceBytes = reservation.bytes();
        this.requestedAddressSpaceBytes = reservation.requestedBytes();
        this.maxArenas = (int) (addressSpaceBytes >>> HeapArena.SHIFT);
        this.maxHeapBytes = config.maxHeapBytes();
        this.arenas = new HeapArena[maxArenas];
        this.base = reservation.base();
        this.hugePagesFromBytes = config.hugePages() && TransparentHugePages.mode().honoursAdvice()
                ? config.hugePagesFromBytes() : Long.MAX_VALUE;
        this.hugePages = hugePagesFromBytes == 0;
        this.heapName = config.name();
    }

    /** See {@link #setOwnPageCacheReturn}; nothing until the heap sets it. */
    private Runnable returnOwnPageCacheRun = () -> { };

    void setPageHeaps(PageHeap[] heaps) {
        this.pageHeaps = heaps.clone();
    }

    /**
     * Sets what {@link #releaseEverywhere} runs first: giving the current thread's page-cache run
     * back to its page heap (other threads' runs are taken back when an allocation fails, where no
     * lock is held; see SpanHeap).
     */
    void setOwnPageCacheReturn(Runnable returnOwnRun) {
        this.returnOwnPageCacheRun = returnOwnRun;
    }

    PageHeap[] pageHeaps() {
        return pageHeaps;
    }

    boolean contains(long address) {
        return Long.compareUnsigned(address - base, (long) arenaCount << HeapArena.SHIFT) < 0;
    }

    /** The arena holding {@code address}, which the caller knows to be inside a mapped arena. */
    HeapArena arenaAt(long address) {
        return arenas[(int) ((address - base) >>> HeapArena.SHIFT)];
    }

    HeapArena arenaOfPage(long page) {
        return arenas[(int) (page >>> (HeapArena.SHIFT - SizeClasses.PAGE_SHIFT))];
    }

    /**
     * The in-use span covering {@code address}, or null. A small span's pages lead to its first
     * page through their {@code pageInSpan}; a large span has page-table entries of 0 (none are
     * written for it: its free fast path fails on class 0 anyway), so an address inside one is
     * found by walking back to the span's first page ({@link HeapArena#largeSpanCovering}), which
     * only error paths and interior addresses need. Safe without a lock (a racy read may find a
     * stale span or none); callers re-check what they found under the owning lock.
     */
    Span spanAt(long address) {
        long offset = address - base;
        if (Long.compareUnsigned(offset, addressSpaceBytes) >= 0) {
            return null;
        }
        HeapArena arena = arenas[(int) (offset >>> HeapArena.SHIFT)];
        long page = offset >>> SizeClasses.PAGE_SHIFT;
        int[] info = pageInfo;
        if (arena == null || page >= info.length) {
            return null;
        }
        int local = (int) (page & (HeapArena.PAGES - 1));
        int entry = info[(int) page];
        if (entry != 0) {
            int first = local - ((entry >>> 8) & PageHeap.PAGE_IN_SPAN_MASK);
            return first < 0 ? null : arena.spans[first];
        }
        Span span = arena.spans[local];
        return span != null ? span : arena.largeSpanCovering(local);
    }

    /** The coarse clock (see {@link #coarseNanos}). */
    long coarseNanos() {
        return coarseNanos;
    }

    /** Sets the coarse clock to now: called at the start of each scavenger pass. */
    void refreshCoarseClock() {
        coarseNanos = System.nanoTime();
    }

    // ---------------------------------------------------------------- held bytes and the limit

    long heldBytes() {
        return heldBytes.get();
    }

    /** Counts {@code bytes} more as held if that stays within the limit; false (nothing changed) if not. */
    boolean tryHold(long bytes) {
        long held;
        if (maxHeapBytes == Long.MAX_VALUE) {
            held = heldBytes.addAndGet(bytes);
        } else {
            do {
                held = heldBytes.get();
                if (held + bytes > maxHeapBytes) {
                    return false;
                }
            } while (!heldBytes.compareAndSet(held, held + bytes));
            held += bytes;
        }
        if (!hugePages && held >= hugePagesFromBytes) {
            startHugePages();
        }
        return true;
    }

    /**
     * Starts asking for huge pages: advises every arena mapped so far. Takes no other lock (the
     * caller may hold a page heap's). An arena being mapped meanwhile is advised by this or by
     * {@link #mapArenaLocked}, which publishes {@link #arenaCount} before it reads
     * {@link #hugePages}, as this sets the flag before it reads the count.
     */
    private void startHugePages() {
        synchronized (hugePagesLock) {
            if (hugePages) {
                return;
            }
            hugePages = true;
            int count = arenaCount;
            for (int i = 0; i < count; i++) {
                OsMemory.adviseHugePages(arenas[i].base, HeapArena.BYTES);
            }
        }
    }

    /** Counts {@code bytes} as no longer held (released pages, an unmapped mapping). */
    void unhold(long bytes) {
        heldBytes.getAndAdd(-bytes);
    }

    /**
     * Releases the free pages of every page heap (the synchronous path at the limit), waiting for
     * a scavenger release in flight in each; reports the total, if any, as one JFR release. Called holding
     * no page heap lock.
     */
    void releaseEverywhere() {
        returnOwnPageCacheRun.run();
        long released = 0;
        for (PageHeap heap : pageHeaps) {
            released += heap.releaser.releaseAllFreeAndAwaitScavenger();
        }
        if (released > 0) {
            HeapEvents.memoryReleased(heapName, released, HeapEvents.RELEASE_FOR_LIMIT);
        }
    }

    // ---------------------------------------------------------------- growing

    /**
     * Maps the next arena of the range for {@code owner} and returns it (not yet in the owner's
     * free-run index), or null if the range is full. Called holding no page heap lock: when the
     * page table must grow, this takes every page heap's lock, in order, while it copies.
     */
    HeapArena mapArena(PageHeap owner, String operation, long requestBytes) {
        HeapArena arena = mapArenaLocked(owner, operation, requestBytes);
        if (arena != null) {
            HeapEvents.arenaMapped(heapName, arena.index, arena.base, HeapArena.BYTES);
        }
        return arena;
    }

    private HeapArena mapArenaLocked(PageHeap owner, String operation, long requestBytes) {
        growLock.lock();
        try {
            int index = arenaCount;
            if (index == maxArenas) {
                return null;
            }
            long arenaBase = base + ((long) index << HeapArena.SHIFT);
            try {
                OsMemory.commit(arenaBase, HeapArena.BYTES);
            } catch (OutOfMemoryError refused) {
                throw Errors.osRefused(operation, requestBytes, maxHeapBytes, heldBytes(), refused);
            }
            int neededPages = (index + 1) * HeapArena.PAGES;
            if (pageInfo.length < neededPages) {
                growPageInfo(Math.min(Math.max(neededPages, pageInfo.length * 2), maxArenas * HeapArena.PAGES));
            }
            HeapArena arena = new HeapArena(index, arenaBase, (long) index * HeapArena.PAGES, owner);
            refreshCoarseClock();
            arenas[index] = arena;
            arenaCount = index + 1;
            if (hugePages) {
                OsMemory.adviseHugePages(arenaBase, HeapArena.BYTES);
            }
            arenaReservations++;
            return arena;
        } finally {
            growLock.unlock();
        }
    }

    private void growPageInfo(int pages) {
        for (PageHeap heap : pageHeaps) {
            heap.lock.lock();
        }
        try {
            int[] grown = new int[pages];
            System.arraycopy(pageInfo, 0, grown, 0, pageInfo.length);
            pageInfo = grown;
            pageInfoReplaced.accept(grown);
        } finally {
            for (PageHeap heap : pageHeaps) {
                heap.lock.unlock();
            }
        }
    }

    long arenaReservations() {
        growLock.lock();
        try {
            return arenaReservations;
        } finally {
            growLock.unlock();
        }
    }

    /** Unmaps the whole range. The caller guarantees nothing uses the heap any more. */
    void unmapAll() {
        growLock.lock();
        try {
            OsMemory.unmap(base, addressSpaceBytes);
            pageInfo = new int[0];
            pageInfoReplaced.accept(pageInfo);
        } finally {
            growLock.unlock();
        }
    }
}
