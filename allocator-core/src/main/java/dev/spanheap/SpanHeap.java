package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

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

    private final SpanHeapConfig config;
    private final boolean checked;
    private final AddressRange range;
    private final long base;
    /** One page heap per shard, in lock order. */
    private final PageHeap[] pageHeaps;
    private final CentralLists centrals;
    private final DedicatedMappings dedicated;
    /** Small slots off the fast paths: their allocation, and the routing of their frees. */
    private final SlotAllocation slotAllocation;
    private final SlotFree slotFree;
    /** Requests that leave the size classes: page runs and dedicated mappings. */
    private final LargeObjects largeObjects;
    private final ThreadCacheRegistry registry;
    /** The registry's table of platform threads' caches, kept here so the fast paths reach it with one load. */
    private final ThreadCache[] caches;
    /** All of the address range as one segment, scoped to {@link #memoryArena}; allocations are slices of it. */
    private final MemorySegment memory;
    private final Arena memoryArena;
    private final MemorySegment.Scope memoryScope;
    /**
     * The range's {@link AddressRange#pageInfo}, kept here so that the free fast path reaches it
     * with one load; the range replaces it when the table grows. Read without a lock for the
     * reason given at {@link AddressRange#pageInfo}.
     */
    private int[] pageInfo;

    private volatile boolean closed;
    private final Scavenger scavenger;
    private final ThreadStacks stacks;
    /** The registered MXBean, or null (see {@link SpanHeapConfig#registerMXBean()}). */
    private final HeapBufferPool bufferPool;
    /** How much of the heap is resident and backed by huge pages, read lazily (see {@link ResidentGauge}). */
    private final ResidentGauge residentGauge;
    /** This heap's place among those the JFR {@code HeapSummary} reports; left at {@link #close()}. */
    private final OpenHeaps.Entry openHeapsEntry;
    /** The sampled heap profile, or null when profiling is off ({@link SpanHeapConfig#profileSampleBytes()} 0). */
    private final HeapProfiler profiler;

    private SpanHeap(SpanHeapConfig config) {
        this.config = config;
        this.checked = config.checked();
        this.range = new AddressRange(config);
        this.base = range.base;
        this.pageHeaps = new PageHeap[config.shards()];
        ReleaseFailureLog releaseFailureLog = new ReleaseFailureLog(config.name());
        for (int i = 0; i < pageHeaps.length; i++) {
            pageHeaps[i] = new PageHeap(i, range, checked);
            pageHeaps[i].releaser.releaseFailureLog = releaseFailureLog;
        }
        range.setPageHeaps(pageHeaps);
        this.pageInfo = range.pageInfo;
        range.pageInfoReplaced = info -> this.pageInfo = info;
        this.dedicated = new DedicatedMappings(range);
        this.residentGauge = new ResidentGauge(range, dedicated);
        this.memoryArena = Arena.ofShared();
        this.memory = MemorySegment.ofAddress(base).reinterpret(range.addressSpaceBytes, memoryArena, null);
        this.memoryScope = memory.scope();
        this.centrals = new CentralLists(pageHeaps, range, memory, checked);
        this.profiler = config.profileSampleBytes() > 0 ? new HeapProfiler(config.profileSampleBytes(), range) : null;
        this.registry = new ThreadCacheRegistry(centrals, config.profileSampleBytes(), config.pageCacheBytes());
        range.setOwnPageCacheReturn(registry::returnOwnPageCacheRun);
        this.caches = registry.caches;
        this.slotAllocation = new SlotAllocation(checked, centrals, registry, profiler);
        this.slotFree = new SlotFree(checked, range, centrals, registry);
        this.largeObjects = new LargeObjects(range, pageHeaps, dedicated, profiler);
        this.scavenger = new Scavenger(this);
        this.stacks = new ThreadStacks(this);
        try {
            this.bufferPool = config.registerMXBean() ? HeapBufferPool.register(this) : null;
        } catch (RuntimeException e) {
            memoryArena.close();
            range.unmapAll();
            throw e;
        }
        this.openHeapsEntry = HeapEvents.heapOpened(this);
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
        return allocateSlow(byteSize, byteAlignment, sizeClass, cache);
    }

    /** The current platform thread's own cache, or null (not registered yet, virtual, or closed heap). */
    private ThreadCache ownCache() {
        Thread thread = Thread.currentThread();
        ThreadCache cache = caches[(int) thread.threadId() & ThreadCacheRegistry.INDEX_MASK];
        return cache != null && cache.owner == thread ? cache : null;
    }

    /**
     * Everything that is not a pop from the current thread's own cache: {@code ownCache}, the
     * cache the fast path found (or null), names the shard of a large object without a second lookup.
     */
    private long allocateSlow(long byteSize, long byteAlignment, int sizeClass, ThreadCache ownCache) {
        checkOpen("allocate");
        if (byteSize < 0) {
            throw Errors.negativeSize("allocate", byteSize);
        }
        try {
            return allocateFromHeap(byteSize, byteAlignment, sizeClass, ownCache);
        } catch (OutOfMemoryError e) {
            // Slots parked in this thread's cache and dead threads' caches may free whole spans,
            // other threads' page caches hold runs, and each class may keep an empty spare span.
            flushCurrentThreadCache();
            reclaimDeadCaches();
            registry.takeBackPageCacheRuns(false);
            centrals.releaseEmptySpans();
        }
        try {
            return allocateFromHeap(byteSize, byteAlignment, sizeClass, ownCache);
        } catch (OutOfMemoryError e) {
            // Reported here, where it reaches the caller, not where it is built: the first
            // attempt's error above is recovered from.
            HeapEvents.outOfMemory(config.name(), byteSize, range.maxHeapBytes, range.heldBytes(), e.getMessage());
            throw e;
        }
    }

    private long allocateFromHeap(long byteSize, long byteAlignment, int sizeClass, ThreadCache ownCache) {
        scavenger.ensureStarted();
        if (sizeClass != 0) {
            return slotAllocation.allocate(byteSize, sizeClass);
        }
        ThreadCache cache = ownCache;
        int shard;
        if (cache != null) {
            shard = cache.shard;
        } else {
            // Registers the thread's cache if it has none yet (a first allocation), so that the
            // page cache sees this allocation too.
            shard = slotAllocation.shardOfCurrentThread();
            cache = ownCache();
        }
        return largeObjects.allocate(byteSize, byteAlignment, shard, cache != null ? cache.pageCache : null);
    }

    /** The segment for a block this heap just handed out at {@code address}. */
    private MemorySegment segmentOf(long address, long byteSize) {
        long offset = address - base;
        if (Long.compareUnsigned(offset, range.addressSpaceBytes) < 0) {
            return memory.asSlice(offset, byteSize);
        }
        DedicatedMappings.Mapping mapping = dedicated.at(address);
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
            checkOpen("free");
            largeObjects.freeMappedSegment(segment);
            return;
        }
        freeAddress(segment.address());
    }

    /** Frees an address returned by {@link #allocateAddress} (or the address of an allocated segment). */
    public void freeAddress(long address) {
        long offset = address - base;
        int[] info = pageInfo;
        long page = offset >>> SizeClasses.PAGE_SHIFT;
        ThreadCache cache = ownCache();
        if (page < info.length && cache != null) {
            // A slot of another shard keeps its shard's bits after the XOR and fails the check, as
            // does any slot of a span with a live profile sample (PageHeap.SAMPLED_SPAN_BIT).
            int entry = info[(int) page] ^ cache.shardTag;
            if (startsOwnShardSlot(offset, entry)) {
                int sizeClass = entry & 0xFF;
                if (!cache.push(sizeClass, address)) {
                    // A full stack: the address is a slot start already, straight to the overflow.
                    cache.drainHalfAndPush(sizeClass, centrals, address);
                }
                return;
            }
            if (slotFree.freeRemote(cache, offset, entry ^ cache.shardTag, address)) {
                return;
            }
        } else if (page < info.length && slotFree.freeVirtual(offset, info[(int) page], address)) {
            return;
        }
        freeSlow(address, "free", cache);
    }

    /**
     * The free fast path's one check: whether {@code offset} (from the heap's base) starts a slot
     * of a small span of the freeing cache's shard, given the page's page-table entry XORed with
     * that cache's {@link ThreadCache#shardTag}. A slot of another shard keeps its shard's bits
     * after the XOR, so its page-in-span looks huge and fails; a free page or a large span's page
     * has class 0, whose slot area is empty. (The benchmarks time this through
     * {@link dev.spanheap.internal.CoreProbe#ownSlotClass}.)
     */
    static boolean startsOwnShardSlot(long offset, int taggedEntry) {
        long inSpan = (offset & SizeClasses.PAGE_MASK) | (long) (taggedEntry >>> 8) << SizeClasses.PAGE_SHIFT;
        return SlotFree.isSlotStart(inSpan, taggedEntry & 0xFF);
    }

    /** Every free that is not a push onto the current thread's own cache; {@code ownCache} is that cache, or null. */
    private void freeSlow(long address, String operation, ThreadCache ownCache) {
        checkOpen(operation);
        if (!range.contains(address)) {
            largeObjects.freeDedicated(address, operation);
            return;
        }
        Span span = spanStartingAt(address, operation);
        // A live sample proves the block live, so dropping it first never undoes a refused free.
        if (profiler != null && span.racyLiveSamples() != 0) {
            profiler.drop(span, address);
        }
        if (span.isLarge()) {
            largeObjects.free(span, address, operation, ownCache != null ? ownCache.pageCache : null);
        } else {
            slotFree.freeSlot(span, address, operation);
        }
    }

    /**
     * The in-use span of an address in the heap's range, checked to be the start of its large
     * object or of one of its slots; otherwise an {@link IllegalArgumentException} that says which.
     */
    private Span spanStartingAt(long address, String operation) {
        Span span = range.spanAt(address);
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
        if (segment.scope() != memoryScope && dedicated.at(address) == null) {
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
        if (!range.contains(address)) {
            return largeObjects.mappedBytes(address);
        }
        Span span = spanStartingAt(address, "usableSize");
        if (span.isLarge()) {
            return span.bytes();
        }
        if (!centrals.owning(address, span.sizeClass).isAllocated(address)) {
            throw Errors.doubleFree("usableSize", address, span);
        }
        return span.slotSize;
    }

    // ================================================================ thread caches

    /** Gives back the caches, and the stacks of frames, of threads that have ended. */
    void reclaimDeadCaches() {
        registry.reclaimDead();
        stacks.reclaimDead();
    }

    /** Gives the calling thread's cached slots back to the central lists (and, for a virtual thread, nothing). */
    void flushCurrentThreadCache() {
        registry.flushCurrentThread();
    }

    /**
     * Flushes what can be flushed safely from this thread: its own cache, dead threads' caches, and
     * the shared caches; then returns the empty spans the central lists kept (each class's spare,
     * and in checked mode every empty span).
     */
    void flushReachableCaches() {
        registry.flushReachable();
        centrals.releaseEmptySpans();
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
        registry.takeBackPageCacheRuns(false);
        long released = 0;
        for (PageHeap heap : pageHeaps) {
            released += heap.releaser.releaseAllFreeAndAwaitScavenger();
        }
        HeapEvents.memoryReleased(config.name(), released, HeapEvents.RELEASE_EXPLICIT);
        return released;
    }

    /** One scavenger pass, whether or not the background thread runs (see {@link Scavenger#passOnce}); returns bytes released. */
    long scavengeOnce() {
        return closed ? 0 : scavenger.passOnce();
    }

    // ================================================================ statistics and checks

    /** A human-readable report of the heap's statistics (like jemalloc's malloc_stats_print). */
    public String report() {
        return HeapReport.render(this, stats());
    }

    /**
     * The bytes of this heap's memory resident now, as the OS counts them: mincore over its mapped
     * arenas and dedicated mappings (one system call per arena). Lower than
     * {@link HeapStats#residentEstimateBytes()} wherever held pages were never written; what the
     * process's RSS has beyond it is not this heap's. {@code stats().machine().residentBytes()}
     * is the same figure up to a second old.
     */
    public long residentBytes() {
        return residentGauge.residentNow();
    }

    /** Writes a self-contained SVG picture of every arena's pages, coloured by state, to {@code path}. */
    public void heapMap(java.nio.file.Path path) {
        checkOpen("heapMap");
        HeapReport.writeHeapMap(this, path);
    }

    /**
     * The sampled heap profile: live and past allocation sites with their estimated bytes and
     * objects (see {@link SpanHeapConfig.Builder#profileSampleBytes}); no sites when profiling is off.
     */
    public HeapProfile profile() {
        checkOpen("profile");
        return profiler == null ? new HeapProfile(0, 0, java.util.List.of()) : profiler.snapshot();
    }

    /**
     * What is still allocated: live objects in total and by size class (exact when no other thread
     * is using the heap), and, when profiling is on, the sampled sites that allocated them. The
     * heap's own chunks for {@link #newConfinedArena()} stacks are counted apart. See {@link LeakReport}.
     */
    public LeakReport leakReport() {
        checkOpen("leakReport");
        HeapStats stats = stats(); // first: it gives back ended threads' stack chunks
        return LeakReport.of(config.name(), stats, stacks.chunksBySize(), profile());
    }

    /** A snapshot of the heap's statistics (exact when no other thread is using the heap). */
    public HeapStats stats() {
        checkOpen("stats");
        stacks.reclaimDead(); // before the locks: it frees ended threads' chunks into the heap
        return HeapStatsCollector.collect(this);
    }

    /**
     * Checks every invariant of the heap and throws {@link IllegalStateException} describing the
     * first one broken (see {@link HeapVerifier}). Not part of the API (package-private): the tests
     * reach it. Exact only while no other thread uses the heap.
     */
    void verifyInvariants() {
        checkOpen("verify");
        String problem = HeapVerifier.verify(this);
        if (problem != null) {
            throw new IllegalStateException("invariant broken: " + problem);
        }
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
     * <p>With {@link SpanHeapConfig.Builder#reportLeaksOnClose}, objects still allocated are first
     * reported ({@link #leakReport()}, logged at WARNING on logger {@code dev.spanheap}); the heap
     * closes whether or not that report can be made.
     *
     * <p>The {@linkplain #shared() shared heap} is never closed: this throws {@link IllegalStateException} for it.
     */
    @Override
    public void close() {
        if (SharedHeap.isShared(this)) {
            throw new IllegalStateException("close: this is the process-wide SpanHeap.shared(), which any library in the"
                    + " process may hold memory from; it lives as long as the process. Create your own heap to close it.");
        }
        if (closed) {
            return;
        }
        stacks.checkClosable();
        try {
            if (config.reportLeaksOnClose()) {
                logLeaks();
            }
        } finally {
            closeNow();
        }
    }

    /**
     * Logs {@link #leakReport()} at WARNING on logger {@code dev.spanheap} if objects are still
     * allocated. Runs while the heap is open, before anything is unmapped: the report reads the
     * statistics and the profile, which close takes away.
     */
    private void logLeaks() {
        LeakReport leaks = leakReport();
        if (leaks.hasLeaks()) {
            System.getLogger("dev.spanheap").log(System.Logger.Level.WARNING, leaks.formatAtClose());
        }
    }

    private void closeNow() {
        HeapEvents.heapClosed(openHeapsEntry);
        closed = true;
        registry.close();
        if (bufferPool != null) {
            bufferPool.unregister();
        }
        scavenger.stop();
        stacks.close();
        memoryArena.close();
        dedicated.unmapAll();
        range.unmapAll();
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "SpanHeap[" + config.name() + " at " + Errors.hex(base) + ", " + (closed ? "closed" : "open") + "]";
    }

    // Package-private views of the components, for the scavenger, statistics, verification, the
    // heap map and the tests.
    AddressRange addressRange() {
        return range;
    }

    PageHeap[] pageHeaps() {
        return pageHeaps;
    }

    CentralLists centralLists() {
        return centrals;
    }

    DedicatedMappings dedicatedMappings() {
        return dedicated;
    }

    ThreadCacheRegistry cacheRegistry() {
        return registry;
    }

    boolean isChecked() {
        return checked;
    }

    /** The stacks behind {@link #newConfinedArena()}, for the tests' checks. */
    ThreadStacks threadStacks() {
        return stacks;
    }

    ResidentGauge residentGauge() {
        return residentGauge;
    }

    /** The heap profile's sampler, or null when profiling is off. */
    HeapProfiler profiler() {
        return profiler;
    }
}
