package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An off-heap memory allocator with Go's design: 64 MiB arenas of 8 KiB pages, 67 size classes,
 * per-thread caches, per-class central lists and a page heap. See {@code package-info.java} and
 * {@code docs/design.md} for how it works.
 *
 * <h2>Contract</h2>
 * <ul>
 * <li>A segment returned by {@link #allocate} is exactly {@code byteSize} long, aligned to
 *     {@code byteAlignment}, zero-filled, and does not overlap any other live allocation of this
 *     heap. {@code allocate(0, a)} returns a zero-length segment. Alignments up to 2^62 are honoured
 *     (those above 8 KiB take whole pages or a mapping of their own).</li>
 * <li>Every method is thread-safe, and memory may be freed by any thread.</li>
 * <li>Segments are tied to the heap: after {@link #close()} any access to them throws
 *     {@link IllegalStateException}. A freed segment stays accessible (reads and writes land in
 *     memory the heap may have handed out again) except for objects larger than an arena, whose
 *     segment becomes inaccessible when freed. No misuse of the segment API can crash the JVM.</li>
 * <li>The raw address methods ({@link #allocateAddress}, {@link #freeAddress}) are the fastest
 *     path and as unsafe as C: using an address after it is freed, or after {@code close()},
 *     is undefined.</li>
 * </ul>
 *
 * <h2>Errors</h2>
 * A negative size or an alignment that is not a power of two throws
 * {@link IllegalArgumentException}. Freeing an address this heap did not hand out, an address
 * inside an object, or an address in free pages throws {@link IllegalArgumentException} naming the
 * address and the reason, and changes nothing. Passing {@code maxHeapBytes}, or the OS refusing
 * memory, throws {@link OutOfMemoryError} naming the request, the limit and the usage; the heap stays
 * usable. Any call after {@code close()} throws {@link IllegalStateException}.
 *
 * <h2>What the default mode detects</h2>
 * Every free is checked for: an address outside the heap, in free pages, or not at the start of a
 * slot or object. A double free of a large or dedicated object is always caught. A double free of a
 * small object is caught when the slot is already back in its span at the time of the second free
 * and that free takes the slow path; when the first free left the slot in a thread cache, the second
 * is not caught at the call (it is found and skipped, and counted in
 * {@link HeapStats#doubleFreesDetected()}, if the slot reaches its span twice, but the slot may be
 * handed out twice meanwhile). Writes after free are not detected. Checked mode
 * ({@link SpanHeapConfig.Builder#checked}) catches every double free at the call and detects writes
 * after free to small objects.
 */
public final class SpanHeap implements SegmentAllocator, AutoCloseable {

    /** Thread caches are found by {@code threadId & CACHE_INDEX_MASK}; see {@link #cacheForCurrentThread}. */
    private static final int CACHE_INDEX_BITS = 12;
    private static final int CACHE_INDEX_MASK = (1 << CACHE_INDEX_BITS) - 1;
    /** {@code SLOT_AREA_END[c]}: bytes of a class-c span covered by slots; a slot starts below it. */
    private static final long[] SLOT_AREA_END = new long[SizeClasses.CLASS_COUNT];

    static {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            SLOT_AREA_END[c] = (long) SizeClasses.SLOTS_PER_SPAN[c] * SizeClasses.SLOT_SIZE[c];
        }
    }

    private final SpanHeapConfig config;
    private final boolean checked;
    private final PageHeap pages;
    private final long base;
    private final CentralList[] centrals;
    /** All of the address range as one segment, scoped to {@link #memoryArena}; allocations are slices of it. */
    private final MemorySegment memory;
    private final Arena memoryArena;
    private final MemorySegment.Scope memoryScope;

    /**
     * Platform threads' caches by {@code threadId & CACHE_INDEX_MASK}. Each entry is written under
     * {@link #registryLock} and read without a lock by its owner only; the array is swapped for an
     * empty one by {@link #close()} so that the fast paths fall through to the closed check.
     */
    private ThreadCache[] caches = new ThreadCache[1 << CACHE_INDEX_BITS];
    /**
     * The page heap's {@link PageHeap#pageInfo}, kept here so that the free fast path reaches it
     * with one load; the page heap replaces it (under its lock) when an arena is added. Read
     * without a lock for the reason given at {@link PageHeap#pageInfo}.
     */
    private int[] pageInfo;
    /** Caches shared by virtual threads (and by platform threads whose index is taken), each used under its lock. */
    private final ThreadCache[] sharedCaches;

    private final ReentrantLock registryLock = new ReentrantLock();
    /** Every owned cache. Guarded by registryLock. */
    private final List<ThreadCache> ownedCaches = new ArrayList<>();
    /** Counters of reclaimed caches, per class. Guarded by registryLock. */
    private final long[] retiredPops = new long[SizeClasses.CLASS_COUNT];
    private final long[] retiredFrees = new long[SizeClasses.CLASS_COUNT];

    private volatile boolean closed;
    /** Slots moved between caches and central lists as of the last scavenger pass. Scavenger thread only. */
    private long centralTrafficAtLastScavenge = -1;
    private final Scavenger scavenger;
    private final ThreadStacks stacks;
    /** The registered MXBean, or null (see {@link SpanHeapConfig#registerMXBean()}). */
    private final HeapBufferPool bufferPool;

    private SpanHeap(SpanHeapConfig config) {
        this.config = config;
        this.checked = config.checked();
        this.pages = new PageHeap(config);
        this.base = pages.base;
        this.pageInfo = pages.pageInfo;
        pages.pageInfoReplaced = info -> this.pageInfo = info;
        this.memoryArena = Arena.ofShared();
        this.memory = MemorySegment.ofAddress(base).reinterpret(config.addressSpaceBytes(), memoryArena, null);
        this.memoryScope = memory.scope();
        this.centrals = new CentralList[SizeClasses.CLASS_COUNT];
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            centrals[c] = new CentralList(c, pages, memory, base, checked);
        }
        this.sharedCaches = new ThreadCache[Math.max(2, 2 * Runtime.getRuntime().availableProcessors())];
        for (int i = 0; i < sharedCaches.length; i++) {
            sharedCaches[i] = new ThreadCache(null);
        }
        this.scavenger = config.scavengerEnabled() ? new Scavenger(this) : null;
        this.stacks = new ThreadStacks(this);
        try {
            this.bufferPool = config.registerMXBean() ? HeapBufferPool.register(this) : null;
        } catch (RuntimeException e) {
            memoryArena.close();
            pages.unmapAll();
            throw e;
        }
    }

    /** A heap with the {@linkplain SpanHeapConfig#defaults() default configuration}. */
    public static SpanHeap create() {
        return new SpanHeap(SpanHeapConfig.defaults());
    }

    /** A heap with the given configuration. */
    public static SpanHeap create(SpanHeapConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config is null");
        }
        return new SpanHeap(config);
    }

    /**
     * The process-wide heap, for libraries and users who do not want to own one: created on the
     * first call from the system properties {@code spanheap.maxHeapBytes}, {@code spanheap.checked}
     * and {@code spanheap.scavenger} (see the README), and never closed.
     *
     * @throws IllegalArgumentException if one of those properties does not parse (no heap is created then)
     */
    public static SpanHeap shared() {
        return SharedHeap.get();
    }

    public SpanHeapConfig config() {
        return config;
    }

    // ================================================================ allocation

    /**
     * Allocates {@code byteSize} zero-filled bytes aligned to {@code byteAlignment}. Memory known to
     * be zero (never used since it was mapped or released) is not cleared again.
     *
     * @throws IllegalArgumentException if {@code byteSize < 0} or the alignment is not a power of two
     * @throws OutOfMemoryError         if {@code maxHeapBytes} would be passed or the OS refuses memory
     * @throws IllegalStateException    if the heap is closed
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        long tagged = allocateTagged(byteSize, byteAlignment);
        long address = tagged & ~1L;
        if ((tagged & 1) == 0) {
            Zero.clear(address, byteSize);
        }
        return segmentOf(address, byteSize);
    }

    /** Like {@link #allocate(long, long)} but the contents are unspecified. */
    public MemorySegment allocateUninitialized(long byteSize, long byteAlignment) {
        return segmentOf(allocateTagged(byteSize, byteAlignment) & ~1L, byteSize);
    }

    /**
     * The raw fast path: allocates {@code byteSize} uninitialized bytes, at least 8-byte aligned,
     * and returns the address. Free it with {@link #freeAddress}.
     */
    public long allocateAddress(long byteSize) {
        return allocateTagged(SizeClasses.classOf(byteSize), byteSize, 1) & ~1L;
    }

    /** Allocates and returns the address with bit 0 set when the memory is known to be zero. */
    private long allocateTagged(long byteSize, long byteAlignment) {
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw Errors.badAlignment("allocate", byteAlignment);
        }
        return allocateTagged(SizeClasses.classOf(byteSize, byteAlignment), byteSize, byteAlignment);
    }

    /** The allocation fast path: a pop from the current thread's own cache, else {@link #allocateSlow}. */
    private long allocateTagged(int sizeClass, long byteSize, long byteAlignment) {
        ThreadCache cache = ownCache();
        if (cache != null) {
            long tagged = cache.pop(sizeClass);
            if (tagged != 0) {
                return tagged;
            }
        }
        return allocateSlow(byteSize, byteAlignment, sizeClass);
    }

    /** The current platform thread's own cache, or null (not registered yet, virtual, or closed heap). */
    private ThreadCache ownCache() {
        Thread thread = Thread.currentThread();
        ThreadCache cache = caches[(int) thread.threadId() & CACHE_INDEX_MASK];
        return cache != null && cache.owner == thread ? cache : null;
    }

    /** Everything that is not a pop from the current thread's own cache. */
    private long allocateSlow(long byteSize, long byteAlignment, int sizeClass) {
        checkOpen("allocate");
        if (byteSize < 0) {
            throw Errors.negativeSize("allocate", byteSize);
        }
        try {
            return allocateFromHeap(byteSize, byteAlignment, sizeClass);
        } catch (OutOfMemoryError e) {
            // Slots parked in this thread's cache and dead threads' caches may free whole spans,
            // and each class may keep an empty spare span.
            flushCurrentThreadCache();
            reclaimDeadCaches();
            releaseEmptySpans();
            return allocateFromHeap(byteSize, byteAlignment, sizeClass);
        }
    }

    private long allocateFromHeap(long byteSize, long byteAlignment, int sizeClass) {
        if (scavenger != null) {
            scavenger.ensureStarted();
        }
        if (sizeClass != 0) {
            if (checked) {
                return centrals[sizeClass].allocateChecked();
            }
            ThreadCache cache = cacheForCurrentThread();
            if (cache.owner != null) {
                return popOrRefill(cache, sizeClass);
            }
            cache.sharedLock.lock();
            try {
                return popOrRefill(cache, sizeClass);
            } finally {
                cache.sharedLock.unlock();
            }
        }
        long alignPages = Math.max(1, byteAlignment >>> SizeClasses.PAGE_SHIFT);
        long pageCount = Math.max(1, (byteSize + SizeClasses.PAGE_MASK) >>> SizeClasses.PAGE_SHIFT);
        if (byteSize <= HeapArena.BYTES && pageCount + alignPages - 1 <= HeapArena.PAGES) {
            Span span = pages.allocateLarge(byteSize, (int) pageCount, (int) alignPages);
            return span.needsZero ? span.start : span.start | 1;
        }
        if (byteSize > Long.MAX_VALUE - byteAlignment - OsMemory.OS_PAGE_SIZE) {
            throw Errors.tooLarge("allocate", byteSize, byteAlignment);
        }
        return pages.mapDedicated(byteSize, byteAlignment, Arena.ofShared()) | 1;
    }

    private long popOrRefill(ThreadCache cache, int sizeClass) {
        long tagged = cache.pop(sizeClass);
        if (tagged != 0) {
            return tagged;
        }
        return cache.refillAndPop(sizeClass, centrals[sizeClass]);
    }

    /** The segment for a block this heap just handed out at {@code address}. */
    private MemorySegment segmentOf(long address, long byteSize) {
        long offset = address - base;
        if (Long.compareUnsigned(offset, pages.addressSpaceBytes) < 0) {
            return memory.asSlice(offset, byteSize);
        }
        PageHeap.DedicatedMapping mapping = pages.dedicatedAt(address);
        return MemorySegment.ofAddress(address).reinterpret(byteSize, mapping.scope(), null);
    }

    // ================================================================ stack frames

    /**
     * A drop-in for {@link Arena#ofConfined()} whose memory comes from the current thread's stack
     * of chunks: allocation bumps a pointer, and closing the innermost arena pops its frame.
     */
    public Arena newConfinedArena() {
        checkOpen("newConfinedArena");
        return stacks.newArena();
    }

    // ================================================================ free

    /**
     * Frees a segment this heap allocated (any slice starting where the allocation started).
     *
     * @throws IllegalArgumentException if the segment is null, not from this heap, not at the start
     *                                  of an allocation, or already free (see the class notes on what is detected)
     */
    public void free(MemorySegment segment) {
        if (segment == null) {
            throw Errors.nullSegment("free");
        }
        if (segment.scope() != memoryScope) {
            freeForeignScope(segment);
            return;
        }
        freeAddress(segment.address());
    }

    private void freeForeignScope(MemorySegment segment) {
        checkOpen("free");
        PageHeap.DedicatedMapping mapping = pages.dedicatedAt(segment.address());
        if (mapping == null || !segment.scope().equals(mapping.scope().scope())) {
            throw Errors.foreignSegment("free", segment);
        }
        freeDedicated(segment.address(), "free");
    }

    /** Frees an address returned by {@link #allocateAddress} (or the address of an allocated segment). */
    public void freeAddress(long address) {
        long offset = address - base;
        int[] info = pageInfo;
        long page = offset >>> SizeClasses.PAGE_SHIFT;
        if (page < info.length) {
            int entry = info[(int) page];
            int sizeClass = entry & 0xFF;
            long inSpan = (offset & SizeClasses.PAGE_MASK) | (long) (entry >>> 8) << SizeClasses.PAGE_SHIFT;
            if (inSpan < SLOT_AREA_END[sizeClass] && SizeClasses.isSlotMultiple(inSpan, sizeClass)) {
                ThreadCache cache = ownCache();
                if (cache != null && cache.push(sizeClass, address)) {
                    return;
                }
            }
        }
        freeSlow(address, "free");
    }

    private void freeSlow(long address, String operation) {
        checkOpen(operation);
        if (!pages.contains(address)) {
            freeDedicated(address, operation);
            return;
        }
        Span span = spanStartingAt(address, operation);
        if (span.isLarge()) {
            if (!pages.freeLarge(span)) {
                throw Errors.inFreePages(operation, address);
            }
            return;
        }
        int slot = span.slotOf(address);
        CentralList central = centrals[span.sizeClass];
        if (checked) {
            central.freeChecked(address, span, slot);
            return;
        }
        // Off the fast path anyway: a double free of a slot that is back in its span is caught here.
        if (!central.isAllocated(span, slot)) {
            throw Errors.doubleFree(operation, address, span);
        }
        ThreadCache cache = cacheForCurrentThread();
        if (cache.owner != null) {
            pushOrDrain(cache, span.sizeClass, address);
            return;
        }
        cache.sharedLock.lock();
        try {
            pushOrDrain(cache, span.sizeClass, address);
        } finally {
            cache.sharedLock.unlock();
        }
    }

    /**
     * The in-use span of an address in the heap's range, checked to be the start of its large
     * object or of one of its slots; otherwise an {@link IllegalArgumentException} that says which.
     */
    private Span spanStartingAt(long address, String operation) {
        Span span = pages.spanAt(address);
        if (span == null) {
            throw Errors.inFreePages(operation, address);
        }
        if (span.isLarge() ? address != span.start : span.slotOf(address) < 0) {
            throw span.isLarge()
                    ? Errors.notObjectStart(operation, address, span.start, span.bytes())
                    : Errors.notSlotStart(operation, address, span);
        }
        return span;
    }

    private void pushOrDrain(ThreadCache cache, int sizeClass, long address) {
        if (!cache.push(sizeClass, address)) {
            cache.drainHalfAndPush(sizeClass, centrals[sizeClass], address);
        }
    }

    private void freeDedicated(long address, String operation) {
        if (pages.unmapDedicated(address) == null) {
            throw Errors.notFromHeap(operation, address);
        }
    }

    // ================================================================ reallocation and queries

    /**
     * Resizes an allocation, keeping its contents up to the smaller size; bytes beyond the old size
     * are zero. Stays in place when the new size fits the same slot or run (and does not waste more
     * than half of it); otherwise allocates anew (8-byte aligned), copies, and frees the old block.
     * The old segment must not be used afterwards.
     */
    public MemorySegment reallocate(MemorySegment segment, long newByteSize) {
        if (segment == null) {
            throw Errors.nullSegment("reallocate");
        }
        if (newByteSize < 0) {
            throw Errors.negativeSize("reallocate", newByteSize);
        }
        long address = segment.address();
        long oldSize = segment.byteSize();
        if (segment.scope() != memoryScope && pages.dedicatedAt(address) == null) {
            throw Errors.foreignSegment("reallocate", segment);
        }
        long usable = usableSize(address);
        if (oldSize > usable) {
            throw new IllegalArgumentException("reallocate: segment at " + Errors.hex(address) + " is " + oldSize
                    + " bytes, longer than the " + usable + "-byte block behind it");
        }
        if (newByteSize <= usable && (newByteSize > usable / 2 || usable <= 16)) {
            MemorySegment resized = segmentOf(address, newByteSize);
            if (newByteSize > oldSize) {
                Zero.clear(address + oldSize, newByteSize - oldSize);
            }
            return resized;
        }
        MemorySegment moved = allocateUninitialized(newByteSize, 8);
        long kept = Math.min(oldSize, newByteSize);
        MemorySegment.copy(segment, 0, moved, 0, kept);
        if (newByteSize > kept) {
            Zero.clear(moved.address() + kept, newByteSize - kept);
        }
        free(segment);
        return moved;
    }

    /**
     * The usable size behind a live allocation: its slot size for a small object, its whole pages
     * for a large one, its mapping for one larger than an arena.
     *
     * @throws IllegalArgumentException if {@code address} is not the start of a live allocation
     */
    public long usableSize(long address) {
        checkOpen("usableSize");
        if (!pages.contains(address)) {
            PageHeap.DedicatedMapping mapping = pages.dedicatedAt(address);
            if (mapping == null) {
                throw Errors.notFromHeap("usableSize", address);
            }
            return mapping.mappedBytes();
        }
        Span span = spanStartingAt(address, "usableSize");
        if (span.isLarge()) {
            return span.bytes();
        }
        int slot = span.slotOf(address);
        if (!centrals[span.sizeClass].isAllocated(span, slot)) {
            throw Errors.doubleFree("usableSize", address, span);
        }
        return span.slotSize;
    }

    // ================================================================ thread caches

    /**
     * The cache the current thread uses off the fast path: its own (registered on first use), or
     * for a virtual thread (or a platform thread whose index is taken) a shared one, which the
     * caller must lock.
     */
    private ThreadCache cacheForCurrentThread() {
        Thread thread = Thread.currentThread();
        if (thread.isVirtual()) {
            return sharedCaches[(int) (thread.threadId() % sharedCaches.length)];
        }
        ThreadCache cache = ownCache();
        if (cache != null) {
            return cache;
        }
        int index = (int) thread.threadId() & CACHE_INDEX_MASK;
        registryLock.lock();
        try {
            checkOpen("allocate");
            reclaimDeadCachesLocked();
            cache = caches[index];
            if (cache == null) {
                cache = new ThreadCache(thread);
                ownedCaches.add(cache);
                caches[index] = cache;
                return cache;
            }
            if (cache.owner == thread) {
                return cache;
            }
            return sharedCaches[(int) (thread.threadId() % sharedCaches.length)];
        } finally {
            registryLock.unlock();
        }
    }

    /** Gives back the caches, and the stacks of frames, of threads that have ended. */
    void reclaimDeadCaches() {
        registryLock.lock();
        try {
            reclaimDeadCachesLocked();
        } finally {
            registryLock.unlock();
        }
        stacks.reclaimDead();
    }

    private void reclaimDeadCachesLocked() {
        for (int i = ownedCaches.size() - 1; i >= 0; i--) {
            ThreadCache cache = ownedCaches.get(i);
            // isAlive() == false orders the dead owner's last writes before our reads (JLS 17.4.4).
            if (!cache.owner.isAlive()) {
                retire(cache);
                ownedCaches.remove(i);
                int index = (int) cache.owner.threadId() & CACHE_INDEX_MASK;
                if (caches[index] == cache) {
                    caches[index] = null;
                }
            }
        }
    }

    private void retire(ThreadCache cache) {
        cache.flush(centrals);
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            retiredPops[c] += cache.pops(c);
            retiredFrees[c] += cache.frees(c);
        }
    }

    /** Gives the calling thread's cached slots back to the central lists (and, for a virtual thread, nothing). */
    void flushCurrentThreadCache() {
        ThreadCache cache = ownCache();
        if (cache != null) {
            cache.flush(centrals);
        }
    }

    /**
     * Flushes what can be flushed safely from this thread: its own cache, dead threads' caches, and
     * the shared caches; then returns the empty spans the central lists kept (each class's spare,
     * and in checked mode every empty span).
     */
    void flushReachableCaches() {
        flushCurrentThreadCache();
        registryLock.lock();
        try {
            reclaimDeadCachesLocked();
            for (ThreadCache shared : sharedCaches) {
                shared.sharedLock.lock();
                try {
                    shared.flush(centrals);
                } finally {
                    shared.sharedLock.unlock();
                }
            }
        } finally {
            registryLock.unlock();
        }
        releaseEmptySpans();
    }

    private void releaseEmptySpans() {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            centrals[c].releaseEmptySpans();
        }
    }

    // ================================================================ returning memory

    /**
     * Releases all free memory to the OS now: flushes the caches it can (this thread's, ended
     * threads', the virtual threads' shared ones), then returns every free page that may be
     * resident with MADV_DONTNEED. Other live threads' caches are left alone.
     *
     * @return bytes released
     */
    public long releaseFreeMemory() {
        checkOpen("releaseFreeMemory");
        flushReachableCaches();
        pages.lock.lock();
        try {
            return pages.releaseAllFree(-1);
        } finally {
            pages.lock.unlock();
        }
    }

    /** One background scavenger pass (see {@link Scavenger}); returns bytes released. */
    long scavengeOnce() {
        if (closed) {
            return 0;
        }
        reclaimDeadCaches();
        // Spare empty spans serve slot traffic between caches and central lists; once that traffic
        // has stopped for a whole period, they are just free memory: give them to the page heap.
        long traffic = 0;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            traffic += centrals[c].slotsRefilled + centrals[c].slotsGivenBack; // racy reads: a heuristic
        }
        if (traffic == centralTrafficAtLastScavenge) {
            releaseEmptySpans();
        }
        centralTrafficAtLastScavenge = traffic;
        long inUse;
        long held;
        pages.lock.lock();
        try {
            inUse = (pages.pagesInSpans << SizeClasses.PAGE_SHIFT) + pages.dedicatedBytes;
            held = pages.heldBytes();
        } finally {
            pages.lock.unlock();
        }
        long retain = (long) (inUse * config.scavengerRetainRatio());
        long minIdleNanos = config.scavengerDelay().toNanos();
        long limit = pages.maxHeapBytes;
        if (limit != Long.MAX_VALUE) {
            // Near the limit, keep held memory under 95% of it (as Go's memory-limit scavenger aims),
            // and once past that goal release free runs however recently they were used, so that
            // an allocation rarely has to release synchronously (or fail) at the limit itself.
            long goal = limit - limit / 20;
            retain = Math.min(retain, Math.max(0, goal - inUse));
            if (held > goal) {
                minIdleNanos = 0;
            }
        }
        return pages.scavenge(retain, minIdleNanos);
    }

    // ================================================================ statistics and checks

    /** A human-readable report of the heap's statistics (like jemalloc's malloc_stats_print). */
    public String report() {
        return HeapReport.render(this, stats());
    }

    /** Writes a self-contained SVG picture of every arena's pages, coloured by state, to {@code path}. */
    public void heapMap(java.nio.file.Path path) {
        checkOpen("heapMap");
        HeapReport.writeHeapMap(this, path);
    }

    /** A snapshot of the heap's statistics (exact when no other thread is using the heap). */
    public HeapStats stats() {
        checkOpen("stats");
        stacks.reclaimDead(); // before the locks: it frees ended threads' chunks into the heap
        // Held throughout, so that no cache is reclaimed or flushed by another thread between
        // reading the caches and reading the central lists (the slots would count twice or never).
        registryLock.lock();
        try {
            return statsLocked();
        } finally {
            registryLock.unlock();
        }
    }

    private HeapStats statsLocked() {
        reclaimDeadCachesLocked();
        long[] cachedSlots = new long[SizeClasses.CLASS_COUNT];
        long[] pops = retiredPops.clone();
        long[] frees = retiredFrees.clone();
        List<ThreadCache> all = new ArrayList<>(ownedCaches);
        all.addAll(List.of(sharedCaches));
        for (ThreadCache cache : all) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                cachedSlots[c] += cache.count(c);
                pops[c] += cache.pops(c);
                frees[c] += cache.frees(c);
            }
        }
        List<SizeClassStats> classes = new ArrayList<>();
        long liveSmall = 0, liveSmallBytes = 0, cachedBytes = 0, freeSlotBytes = 0, smallAllocations = 0, smallFrees = 0;
        long fromCentral = 0, fromNewSpan = 0, doubleFrees = 0;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            CentralList central = centrals[c];
            long spans, allocatedSlots, directAllocations, directFrees, quarantined;
            synchronized (central.lock) {
                spans = central.spans;
                allocatedSlots = central.allocatedSlots;
                directAllocations = central.directAllocations;
                directFrees = central.directFrees;
                quarantined = central.quarantinedSlots;
                fromCentral += central.refillsFromPartial;
                fromNewSpan += central.refillsFromNewSpan;
                doubleFrees += central.doubleFreesDetected;
            }
            long live = allocatedSlots - cachedSlots[c] - quarantined;
            long classFrees = frees[c] + directFrees;
            long classAllocations = pops[c] + directAllocations;
            int slotSize = SizeClasses.SLOT_SIZE[c];
            long freeSlots = spans * SizeClasses.SLOTS_PER_SPAN[c] - allocatedSlots;
            if (spans > 0 || classAllocations > 0) {
                classes.add(new SizeClassStats(c, slotSize, SizeClasses.SPAN_PAGES[c], spans, live, cachedSlots[c],
                        freeSlots, classAllocations, classFrees));
            }
            liveSmall += live;
            liveSmallBytes += live * slotSize;
            cachedBytes += cachedSlots[c] * slotSize;
            freeSlotBytes += freeSlots * slotSize;
            smallAllocations += classAllocations;
            smallFrees += classFrees;
        }
        pages.lock.lock();
        try {
            long largeLive = pages.largeSpans;
            long dedicatedLive = pages.dedicatedCount();
            long freePageBytes = pages.freePages << SizeClasses.PAGE_SHIFT;
            long retained = pages.dirtyFreePages << SizeClasses.PAGE_SHIFT;
            long reserved = ((long) pages.arenaCount << HeapArena.SHIFT) + pages.dedicatedBytes;
            long held = pages.heldBytes();
            return new HeapStats(
                    liveSmall + largeLive + dedicatedLive,
                    liveSmallBytes + pages.largeObjectBytes + pages.dedicatedBytes,
                    reserved,
                    pages.arenaCount,
                    held,
                    pages.maxHeapBytes,
                    pages.pagesInSpans << SizeClasses.PAGE_SHIFT,
                    freePageBytes,
                    retained,
                    freePageBytes - retained,
                    pages.releasedBytesTotal,
                    held,
                    cachedBytes,
                    freeSlotBytes,
                    pages.largestFreeRunPages() << SizeClasses.PAGE_SHIFT,
                    pages.freeRunCount(),
                    pages.smallSpans,
                    largeLive,
                    pages.largeObjectBytes,
                    pages.largeRequestedBytes,
                    dedicatedLive,
                    pages.dedicatedBytes,
                    smallAllocations + pages.largeAllocations + pages.dedicatedAllocations,
                    smallFrees + pages.largeFrees + pages.dedicatedFrees,
                    smallAllocations - fromCentral - fromNewSpan,
                    fromCentral,
                    fromNewSpan,
                    pages.largeAllocations,
                    pages.arenaReservations,
                    all.size(),
                    doubleFrees,
                    classes,
                    stacks.stats());
        } finally {
            pages.lock.unlock();
        }
    }

    /**
     * Checks every invariant of the heap and throws {@link IllegalStateException} describing the
     * first one broken. Not part of the API (package-private): the tests reach it. Exact only while
     * no other thread uses the heap.
     *
     * <p>Checked: the page heap's equations ({@link PageHeap#verify}); each span's equations
     * ({@link Span#verify}); each central list's partial list; per class, the slots marked allocated
     * in spans equal the central list's count; every cached slot lies at a slot start of a span of
     * its class, is marked allocated, and is cached once; in checked mode, every poisoned free slot
     * still holds its poison; the statistics agree with a recount.
     */
    void verifyInvariants() {
        checkOpen("verify");
        String problem = pages.verify();
        if (problem != null) {
            throw new IllegalStateException("invariant broken: " + problem);
        }
        // The registry lock comes before the central locks: snapshot the caches first.
        List<ThreadCache> owned;
        registryLock.lock();
        try {
            owned = new ArrayList<>(ownedCaches);
        } finally {
            registryLock.unlock();
        }
        problem = withEveryCentralLockAndThePageHeapLock(() -> verifyLocked(owned));
        if (problem != null) {
            throw new IllegalStateException("invariant broken: " + problem);
        }
    }

    /**
     * Runs {@code action} holding every central-list lock (taken in class order) and then the page
     * heap lock: a consistent view of all spans, for verification and snapshots.
     */
    <T> T withEveryCentralLockAndThePageHeapLock(java.util.function.Supplier<T> action) {
        return holdCentralLocksFrom(1, action);
    }

    private <T> T holdCentralLocksFrom(int sizeClass, java.util.function.Supplier<T> action) {
        if (sizeClass < SizeClasses.CLASS_COUNT) {
            synchronized (centrals[sizeClass].lock) {
                return holdCentralLocksFrom(sizeClass + 1, action);
            }
        }
        pages.lock.lock();
        try {
            return action.get();
        } finally {
            pages.lock.unlock();
        }
    }

    private String verifyLocked(List<ThreadCache> cachesToVerify) {
        long[] slotsInSpans = new long[SizeClasses.CLASS_COUNT];
        long[] spanCount = new long[SizeClasses.CLASS_COUNT];
        String[] problem = new String[1];
        pages.forEachSpan(span -> {
            if (problem[0] != null) {
                return;
            }
            problem[0] = span.verify();
            if (!span.isLarge()) {
                slotsInSpans[span.sizeClass] += span.allocatedSlots;
                spanCount[span.sizeClass]++;
                if (checked && problem[0] == null) {
                    for (int slot = 0; slot < span.capacity && problem[0] == null; slot++) {
                        if ((span.poisoned[slot >>> 6] & (1L << slot)) != 0) {
                            long broken = centrals[span.sizeClass].firstUnpoisoned(span.slotAddress(slot), span.slotSize);
                            if (broken >= 0) {
                                problem[0] = "free slot " + Errors.hex(span.slotAddress(slot)) + " of " + span
                                        + " was written after free (offset " + broken + ")";
                            }
                        }
                    }
                }
            }
        });
        if (problem[0] != null) {
            return problem[0];
        }
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            String listProblem = centrals[c].verify();
            if (listProblem != null) {
                return listProblem;
            }
            if (slotsInSpans[c] != centrals[c].allocatedSlots || spanCount[c] != centrals[c].spans) {
                return "class " + c + ": spans hold " + slotsInSpans[c] + " allocated slots in " + spanCount[c]
                        + " spans, central list counts " + centrals[c].allocatedSlots + " in " + centrals[c].spans;
            }
        }
        Set<Long> cached = new HashSet<>();
        List<ThreadCache> all = new ArrayList<>(cachesToVerify);
        all.addAll(List.of(sharedCaches));
        long[] cachedPerClass = new long[SizeClasses.CLASS_COUNT];
        for (ThreadCache cache : all) {
            for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
                int n = cache.count(c);
                if (n < 0 || n > ThreadCache.CAPACITY[c]) {
                    return "a thread cache holds " + n + " slots of class " + c + " (capacity " + ThreadCache.CAPACITY[c] + ")";
                }
                cachedPerClass[c] += n;
                for (int i = 0; i < n; i++) {
                    long address = cache.slots[(c << ThreadCache.CLASS_SHIFT) + i] & ~1L;
                    Span span = pages.spanAt(address);
                    int slot = span == null || span.sizeClass != c ? -1 : span.slotOf(address);
                    if (slot < 0) {
                        return "cached slot " + Errors.hex(address) + " of class " + c + " is not a slot of a class-" + c + " span";
                    }
                    if (!span.isAllocated(slot)) {
                        return "cached slot " + Errors.hex(address) + " is marked free in its span " + span;
                    }
                    if (!cached.add(address)) {
                        return "slot " + Errors.hex(address) + " is cached twice";
                    }
                }
            }
        }
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            if (cachedPerClass[c] > centrals[c].allocatedSlots - centrals[c].quarantinedSlots) {
                return "class " + c + ": " + cachedPerClass[c] + " cached slots but only " + centrals[c].allocatedSlots + " allocated";
            }
        }
        return null;
    }

    // ================================================================ lifecycle

    private void checkOpen(String operation) {
        if (closed) {
            throw Errors.closed(operation);
        }
    }

    /**
     * Closes the heap: every segment it returned becomes inaccessible and all its memory is
     * unmapped. Must not race with other calls on the heap; a second call does nothing. While a
     * live thread (the caller included) has a stack arena ({@link #newConfinedArena()}) open, this
     * throws {@link IllegalStateException} naming it, and the heap stays open.
     *
     * <p>The {@linkplain #shared() shared heap} is never closed: this throws {@link IllegalStateException} for it.
     */
    @Override
    public void close() {
        if (SharedHeap.isShared(this)) {
            throw new IllegalStateException("close: this is the process-wide SpanHeap.shared(), which any library in the"
                    + " process may hold memory from; it lives as long as the process. Create your own heap to close it.");
        }
        if (!closed) {
            stacks.checkClosable();
        }
        registryLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            caches = new ThreadCache[1 << CACHE_INDEX_BITS];
        } finally {
            registryLock.unlock();
        }
        if (bufferPool != null) {
            bufferPool.unregister();
        }
        if (scavenger != null) {
            scavenger.stop();
        }
        stacks.close();
        memoryArena.close();
        pages.unmapAll();
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "SpanHeap[" + config.name() + " at " + Errors.hex(base) + ", " + (closed ? "closed" : "open") + "]";
    }

    // Package-private views for the scavenger, the heap map and the tests.
    PageHeap pageHeap() {
        return pages;
    }

    /** The stacks behind {@link #newConfinedArena()}, for the tests' checks. */
    ThreadStacks threadStacks() {
        return stacks;
    }
}
