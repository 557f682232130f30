package dev.spanheap;

import java.time.Duration;

/**
 * How a {@link SpanHeap} is set up. Immutable; build one with {@link #builder()}.
 *
 * <pre>{@code
 * SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder()
 *         .maxHeapBytes(1L << 30)   // hard limit on memory held from the OS
 *         .checked(true)            // catch every double free and writes after free
 *         .build());
 * }</pre>
 */
public final class SpanHeapConfig {

    /** Default size of the virtual address range a heap reserves for its arenas: 256 GiB. */
    public static final long DEFAULT_ADDRESS_SPACE_BYTES = 256L << 30;
    /** The most shards a heap may have. */
    public static final int MAX_SHARDS = 256;
    /**
     * The heap profile's mean bytes between samples when neither {@link Builder#profileSampleBytes}
     * nor the {@code spanheap.profileSampleBytes} property sets it: 0, profiling off.
     */
    public static final long DEFAULT_PROFILE_SAMPLE_BYTES = 0;
    /**
     * Held bytes from which a heap with huge pages on asks for them: 256 MiB, below which a random
     * walk of the live set measured no faster with them and a sparse heap paid for them in RSS
     * (docs/benchmarks.md, "Huge pages by heap size").
     */
    public static final long DEFAULT_HUGE_PAGES_FROM_BYTES = 256L << 20;
    /** The default {@link Builder#pageCacheBytes}: 4 MiB per platform thread. */
    public static final long DEFAULT_PAGE_CACHE_BYTES = 4L << 20;
    /** The largest {@link Builder#pageCacheBytes}: 64 MiB. */
    public static final long MAX_PAGE_CACHE_BYTES = 64L << 20;

    private final long maxHeapBytes;
    private final boolean checked;
    private final long addressSpaceBytes;
    private final boolean scavengerEnabled;
    private final double scavengerRetainRatio;
    private final Duration scavengerDelay;
    private final boolean registerMXBean;
    private final String name;
    private final int shards;
    private final HeapLimitSource maxHeapBytesSource;
    /** The container limit read when the default limit was derived; null when the limit was set. */
    private final CgroupMemoryLimit containerLimit;
    private final boolean addressSpaceMayShrink;
    private final boolean hugePages;
    private final long hugePagesFromBytes;
    private final long profileSampleBytes;
    private final boolean reportLeaksOnClose;
    private final long pageCacheBytes;

    private SpanHeapConfig(Builder b) {
        this.shards = b.shardsSet ? b.shards : SharedHeap.shardsFrom(System.getProperty(SharedHeap.SHARDS));
        this.maxHeapBytes = b.maxHeapBytes;
        this.checked = b.checked;
        this.addressSpaceBytes = b.addressSpaceBytes;
        this.scavengerEnabled = b.scavengerEnabled;
        this.scavengerRetainRatio = b.scavengerRetainRatio;
        this.scavengerDelay = b.scavengerDelay;
        this.registerMXBean = b.registerMXBean;
        this.name = b.name;
        this.maxHeapBytesSource = b.maxHeapBytesSource;
        this.containerLimit = b.containerLimit;
        this.addressSpaceMayShrink = !b.addressSpaceSet;
        this.hugePages = b.hugePagesSet ? b.hugePages : SharedHeap.hugePagesOn(System.getProperty(SharedHeap.HUGE_PAGES));
        this.hugePagesFromBytes = b.hugePagesFromSet ? b.hugePagesFromBytes
                : SharedHeap.hugePagesFromBytes(System.getProperty(SharedHeap.HUGE_PAGES_FROM));
        this.profileSampleBytes = b.profileSampleBytesSet ? b.profileSampleBytes
                : SharedHeap.profileSampleBytesFrom(System.getProperty(SharedHeap.PROFILE_SAMPLE_BYTES));
        this.reportLeaksOnClose = b.reportLeaksOnClose;
        // Whole pages, whichever of the builder and the property gives it.
        this.pageCacheBytes = (b.pageCacheBytesSet ? b.pageCacheBytes
                : SharedHeap.pageCacheBytesFrom(System.getProperty(SharedHeap.PAGE_CACHE_BYTES))) & ~(long) SizeClasses.PAGE_MASK;
    }

    /** A builder preset to the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The default configuration: unchecked, scavenger on, no MXBean, the default limit (the
     * {@code spanheap.maxHeapBytes} property, else a share of the container's memory limit, else
     * none; see {@link #maxHeapBytesSource()}), the default address space (smaller if the OS
     * refuses it), huge pages asked for where the kernel's THP mode honours it. Built on each call,
     * so that it sees the property as it is now.
     */
    public static SpanHeapConfig defaults() {
        return builder().build();
    }

    /** Hard limit on bytes held from the OS (see {@link Builder#maxHeapBytes}); {@code Long.MAX_VALUE} if none. */
    public long maxHeapBytes() { return maxHeapBytes; }

    /** Whether checked mode is on (see {@link Builder#checked}). */
    public boolean checked() { return checked; }

    /** Bytes of virtual address space reserved for arenas (see {@link Builder#addressSpaceBytes}). */
    public long addressSpaceBytes() { return addressSpaceBytes; }

    /** Whether the background scavenger runs. */
    public boolean scavengerEnabled() { return scavengerEnabled; }

    /** Free memory the scavenger lets the heap retain, as a fraction of the memory in use. */
    public double scavengerRetainRatio() { return scavengerRetainRatio; }

    /** How long free pages must stay unused before the scavenger releases them. */
    public Duration scavengerDelay() { return scavengerDelay; }

    /** Whether the heap registers a {@code BufferPoolMXBean} with the platform MBean server. */
    public boolean registerMXBean() { return registerMXBean; }

    /** The heap's name, shown in reports and as the MXBean's pool name. */
    public String name() { return name; }

    /** Shards of the heap: independent page heaps with their own central lists (see {@link Builder#shards}). */
    public int shards() { return shards; }

    /** Where {@link #maxHeapBytes()} came from: the builder, the property, a container limit, or nowhere (no limit). */
    public HeapLimitSource maxHeapBytesSource() { return maxHeapBytesSource; }

    /**
     * Whether arenas are asked for transparent huge pages (see {@link Builder#hugePages}), once the
     * heap holds {@link #hugePagesFromBytes()}; they get them only where the kernel's THP mode is
     * {@code madvise} or {@code always}.
     */
    public boolean hugePages() { return hugePages; }

    /** Held bytes from which the heap asks for huge pages, when {@link #hugePages()} (see {@link Builder#hugePagesFrom}). */
    public long hugePagesFromBytes() { return hugePagesFromBytes; }

    /** Mean bytes allocated between two samples of the heap profile; 0 when profiling is off (see {@link Builder#profileSampleBytes}). */
    public long profileSampleBytes() { return profileSampleBytes; }

    /** Whether {@link SpanHeap#close()} logs a leak report when objects are still live (see {@link Builder#reportLeaksOnClose}). */
    public boolean reportLeaksOnClose() { return reportLeaksOnClose; }

    /** The longest run of free pages each platform thread keeps for its large objects, in bytes; 0 when off (see {@link Builder#pageCacheBytes}). */
    public long pageCacheBytes() { return pageCacheBytes; }

    /**
     * Whether {@link #addressSpaceBytes()} is the default, which the heap shrinks when the OS
     * refuses it (see {@link RangeReservation}); an explicit size is never shrunk.
     */
    boolean addressSpaceMayShrink() { return addressSpaceMayShrink; }

    /** The container limit read to derive the default limit, or null when the limit was given. */
    CgroupMemoryLimit containerLimit() { return containerLimit; }

    /**
     * The default shard count: two per available processor, from 1 to {@link #MAX_SHARDS}. With
     * one per processor, four threads on a 2-core machine ran at 0.68 to 0.79 of two, with two
     * per processor at 0.96 (docs/benchmarks.md, "More shards than processors" and "Two shards
     * per processor by default"); the free runs the page heaps take from each other keep the
     * extra shards from stranding memory.
     */
    public static int defaultShards() {
        return (int) Math.clamp(2L * Runtime.getRuntime().availableProcessors(), 1, MAX_SHARDS);
    }

    @Override
    public String toString() {
        return "SpanHeapConfig[name=" + name + ", maxHeapBytes=" + maxHeapBytes + ", checked=" + checked
                + ", addressSpaceBytes=" + addressSpaceBytes + ", scavenger=" + scavengerEnabled
                + ", retainRatio=" + scavengerRetainRatio + ", scavengerDelay=" + scavengerDelay
                + ", mxbean=" + registerMXBean + ", shards=" + shards + ", maxHeapBytesSource=" + maxHeapBytesSource
                + ", hugePages=" + hugePages + ", hugePagesFromBytes=" + hugePagesFromBytes + ", profileSampleBytes=" + profileSampleBytes
                + ", reportLeaksOnClose=" + reportLeaksOnClose + ", pageCacheBytes=" + pageCacheBytes + "]";
    }

    /** Builds a {@link SpanHeapConfig}; every setter checks its argument at once. */
    public static final class Builder {
        private long maxHeapBytes = Long.MAX_VALUE;
        private boolean checked;
        private long addressSpaceBytes = DEFAULT_ADDRESS_SPACE_BYTES;
        private boolean scavengerEnabled = true;
        private double scavengerRetainRatio = 0.10;
        private Duration scavengerDelay = Duration.ofSeconds(1);
        private boolean registerMXBean;
        private String name = "spanheap";
        private int shards;
        /** Whether {@link #shards} was set; if not, the {@code spanheap.shards} property or the default decides at build time. */
        private boolean shardsSet;
        /** Null until a limit is set; then where it came from. */
        private HeapLimitSource maxHeapBytesSource;
        private CgroupMemoryLimit containerLimit;
        private boolean addressSpaceSet;
        private boolean hugePages;
        /** Whether {@link #hugePages} was set; if not, the {@code spanheap.hugePages} property or the default decides at build time. */
        private boolean hugePagesSet;
        private long hugePagesFromBytes;
        /** Whether {@link #hugePagesFrom} was set; if not, the {@code spanheap.hugePagesFrom} property or the default decides at build time. */
        private boolean hugePagesFromSet;
        private long profileSampleBytes;
        /** Whether {@link #profileSampleBytes} was set; if not, the property or the default decides at build time. */
        private boolean profileSampleBytesSet;
        private boolean reportLeaksOnClose;
        private long pageCacheBytes;
        /** Whether {@link #pageCacheBytes} was set; if not, the {@code spanheap.pageCacheBytes} property or the default decides at build time. */
        private boolean pageCacheBytesSet;

        private Builder() {
        }

        /**
         * The longest run of free pages each platform thread keeps for its large objects (default:
         * the {@code spanheap.pageCacheBytes} property if set, else
         * {@link SpanHeapConfig#DEFAULT_PAGE_CACHE_BYTES}; rounded down to whole 8 KiB pages; 0 turns
         * page caches off). A large object of at most this size that a thread frees becomes its
         * run, and the thread's next large allocations that fit are cut from it, and the stack order
         * of allocate-then-free merges back into it, without a lock. The cost: up to this much free
         * memory per platform thread that other threads cannot use until a scavenger pass finds it
         * unused (or an explicit release, or the limit, takes it back).
         *
         * @throws IllegalArgumentException if negative or above {@link SpanHeapConfig#MAX_PAGE_CACHE_BYTES}
         */
        public Builder pageCacheBytes(long bytes) {
            if (bytes < 0 || bytes > MAX_PAGE_CACHE_BYTES) {
                throw new IllegalArgumentException("pageCacheBytes must be between 0 and " + MAX_PAGE_CACHE_BYTES + ", was " + bytes);
            }
            this.pageCacheBytes = bytes;
            this.pageCacheBytesSet = true;
            return this;
        }

        /**
         * Shards: independent page heaps, each with its own central lists and locks. Each platform
         * thread is bound to the shard with the fewest live threads (virtual threads' shared caches
         * are spread over them too), so up to this many threads take spans and large objects
         * without meeting on a lock; frees go to the shard that owns the block. More shards cost some memory (each keeps its own partly used spans and
         * arenas). Default: the {@code spanheap.shards} property if set, else {@link SpanHeapConfig#defaultShards()}.
         */
        public Builder shards(int shards) {
            if (shards < 1 || shards > MAX_SHARDS) {
                throw new IllegalArgumentException("shards must be between 1 and " + MAX_SHARDS + ", was " + shards);
            }
            this.shards = shards;
            this.shardsSet = true;
            return this;
        }

        /**
         * Hard limit on memory held from the OS: pages in use by spans, free pages not yet
         * released, and dedicated mappings. An allocation that would pass it first makes the heap
         * release free pages, then fails with {@link OutOfMemoryError}. {@code 0} means no limit.
         * When not set, the limit is the {@code spanheap.maxHeapBytes} property, else a share of the
         * container's memory limit (README, "Limits of the machine"), else none.
         */
        public Builder maxHeapBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxHeapBytes must be positive, or 0 for no limit, was " + bytes);
            }
            return maxHeapBytesFrom(bytes == 0 ? Long.MAX_VALUE : bytes, HeapLimitSource.CONFIG);
        }

        /** Sets the limit ({@code Long.MAX_VALUE} for none) and says where it came from. */
        Builder maxHeapBytesFrom(long bytes, HeapLimitSource source) {
            this.maxHeapBytes = bytes;
            this.maxHeapBytesSource = source;
            this.containerLimit = null;
            return this;
        }

        /**
         * Checked mode: no thread caches; every free is checked against its span's bitmap (so every
         * double free is caught), and freed slots are filled with a poison pattern that is checked
         * when the slot is handed out again (so a write after free is caught then, and by
         * verification). Slower; meant for tests and debugging.
         */
        public Builder checked(boolean checked) {
            this.checked = checked;
            return this;
        }

        /**
         * Virtual address space reserved (PROT_NONE, not committed) for arenas: a multiple of the
         * 64 MiB arena size, from 64 MiB to 64 TiB. Objects larger than an arena are mapped
         * separately and do not count against it.
         */
        public Builder addressSpaceBytes(long bytes) {
            long arena = 64L << 20;
            if (bytes < arena || bytes > (64L << 40) || bytes % arena != 0) {
                throw new IllegalArgumentException("addressSpaceBytes must be a multiple of 64 MiB between 64 MiB and 64 TiB, was " + bytes);
            }
            this.addressSpaceBytes = bytes;
            this.addressSpaceSet = true;
            return this;
        }

        /** Turns the background scavenger on (the default) or off. */
        public Builder scavengerEnabled(boolean enabled) {
            this.scavengerEnabled = enabled;
            return this;
        }

        /** Free memory retained over what is in use before the scavenger releases, as a fraction (default 0.10, as Go). */
        public Builder scavengerRetainRatio(double ratio) {
            if (!(ratio >= 0 && ratio <= 100)) {
                throw new IllegalArgumentException("scavengerRetainRatio must be between 0 and 100, was " + ratio);
            }
            this.scavengerRetainRatio = ratio;
            return this;
        }

        /** How long free pages stay unused before the scavenger releases them (default 1 s). */
        public Builder scavengerDelay(Duration delay) {
            if (delay == null || delay.isNegative()) {
                throw new IllegalArgumentException("scavengerDelay must be zero or positive, was " + delay);
            }
            this.scavengerDelay = delay;
            return this;
        }

        /** Registers a {@code java.nio:type=BufferPool,name=<name>} MXBean for the heap (default off). */
        public Builder registerMXBean(boolean register) {
            this.registerMXBean = register;
            return this;
        }

        /** The heap's name, used in reports and for the MXBean (default {@code spanheap}). */
        public Builder name(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * Asks the kernel for transparent huge pages (madvise MADV_HUGEPAGE) once the heap holds
         * {@link #hugePagesFrom} bytes: from then on its arenas, those mapped before included, and
         * its new dedicated mappings are advised, and the scavenger releases whole 2 MiB regions
         * where it can. When not set, the {@code spanheap.hugePages} property decides, else on
         * (docs/benchmarks.md, "Huge pages"). Has no effect where the kernel's THP mode is
         * {@code never} or THP is absent.
         */
        public Builder hugePages(boolean enabled) {
            this.hugePages = enabled;
            this.hugePagesSet = true;
            return this;
        }

        /**
         * The held bytes from which a heap with {@link #hugePages} on asks for huge pages; 0 asks
         * from the first arena. When not set, the {@code spanheap.hugePagesFrom} property decides
         * (bytes with an optional {@code k}, {@code m} or {@code g} suffix), else
         * {@link SpanHeapConfig#DEFAULT_HUGE_PAGES_FROM_BYTES}. A 2 MiB page backs its whole
         * region even where only one page of it is written, so a small or sparse heap pays for
         * them in RSS; below the default a random walk of the live set measured no faster with
         * them, though small-object mixes ran a few percent faster (docs/benchmarks.md, "Huge
         * pages by heap size"): 0 is for a heap that prefers that to its RSS.
         */
        public Builder hugePagesFrom(long heldBytes) {
            if (heldBytes < 0) {
                throw new IllegalArgumentException("hugePagesFrom must be 0 or positive, was " + heldBytes);
            }
            this.hugePagesFromBytes = heldBytes;
            this.hugePagesFromSet = true;
            return this;
        }

        /**
         * Samples the heap profile ({@link SpanHeap#profile()}): on average one allocation per
         * {@code bytes} bytes allocated, at a geometric interval as Go's {@code MemProfileRate} and
         * TCMalloc's sampler take them, each sample keeping its allocation's stack until the block
         * is freed. 0 turns profiling off. When not set, the {@code spanheap.profileSampleBytes}
         * property decides (a number of bytes with an optional {@code k}, {@code m} or {@code g}
         * suffix, {@code 0} for off), else {@link SpanHeapConfig#DEFAULT_PROFILE_SAMPLE_BYTES}.
         * With profiling off, neither the allocation nor the free fast path does any work for it.
         */
        public Builder profileSampleBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("profileSampleBytes must be 0 (off) or positive, was " + bytes);
            }
            this.profileSampleBytes = bytes;
            this.profileSampleBytesSet = true;
            return this;
        }

        /**
         * Makes {@link SpanHeap#close()} log {@link SpanHeap#leakReport()} (through
         * {@link System.Logger}, level WARNING) when objects are still allocated. Default off.
         */
        public Builder reportLeaksOnClose(boolean report) {
            this.reportLeaksOnClose = report;
            return this;
        }

        /** Builds the configuration; an unset limit is resolved now (see {@link #maxHeapBytes}). */
        public SpanHeapConfig build() {
            if (maxHeapBytesSource == null) {
                DefaultHeapLimit limit = DefaultHeapLimit.resolve(System.getProperty(SharedHeap.MAX_HEAP_BYTES));
                SpanHeapConfig config;
                maxHeapBytes = limit.bytes();
                maxHeapBytesSource = limit.source();
                containerLimit = limit.cgroup();
                try {
                    config = new SpanHeapConfig(this);
                } finally {
                    maxHeapBytes = Long.MAX_VALUE;
                    maxHeapBytesSource = null;
                    containerLimit = null;
                }
                return config;
            }
            return new SpanHeapConfig(this);
        }
    }
}
