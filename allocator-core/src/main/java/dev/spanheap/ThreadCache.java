package dev.spanheap;

/**
 * A per-thread stack of free slot addresses for each size class; Go's {@code mcache} (per P there,
 * per platform thread here). The allocation fast path pops from it and the free fast path pushes to
 * it, with no lock and no atomic instruction: only its owner thread touches it.
 *
 * <p><b>Layout.</b> One flat {@code long[]} of addresses: class {@code c} owns entries
 * {@code [c << 6, (c << 6) + capacity)}, filled from the bottom. Bit 0 of an entry is set when the
 * slot is known to be zero (needzero): the zeroing allocation skips the clear for it. Everything
 * else the fast paths need about class {@code c} is packed in one word, {@link #state}{@code [c]},
 * so that a pop or a push reads and writes one word besides the address:
 * <pre>
 *   bits 0..6    count      slots on the stack (0..64)
 *   bits 7..13   capacity   the class's bound ({@link #CAPACITY})
 *   bits 14..63  countdown  signed: pops left before the heap profile's next sample of the class
 * </pre>
 * A pop subtracts one from the count and one from the countdown in a single subtraction. The pop
 * that finds the countdown at -1 (the whole word negative) leaves the fast path, whose test of the
 * word's sign costs nothing beyond the count test on the value it has loaded anyway; the slow path
 * ({@link #popSlow}) serves that pop as the class's sample and draws the next countdown (see
 * {@link #drawCountdown}). With profiling off the countdown is {@link #UNSAMPLED_COUNTDOWN} and
 * is merely re-armed when it runs out. The count never borrows from the capacity: a pop only runs
 * with a count of at least 1.
 *
 * <p>Pops are counted through the countdown: {@code pops == popsBase - countdown}, where
 * {@link #popsBase} is re-based whenever the slow path re-arms. Frees are not counted on the fast
 * path; they follow from {@code count == slotsIn - slotsOut + frees - pops}. {@link #top} keeps a
 * copy of each stack's top entry, so that a pop's result does not wait for the count to be loaded
 * and used as an index.
 *
 * <p><b>Bounds.</b> Class {@code c} holds at most {@link #CAPACITY}{@code [c]} slots (64 for small
 * slots, fewer as slots grow, so that about 64 KiB of each class is cached); a whole cache holds at
 * most {@link #MAX_CACHED_BYTES}, its remote-free buffer included. When a push finds its class
 * full, the older half goes back to the central list; when a pop finds it empty, half a capacity
 * comes from the central list.
 *
 * <p><b>Remote frees.</b> A slot whose span belongs to another shard, of a class whose slots may
 * share a cache line (sizes not a multiple of 64 B), is not pushed on a stack (where it would be
 * this thread's next allocation, on a line another thread may be writing): it goes to the
 * remote-free buffer, which sends its slots home in one batch when it
 * holds {@link #REMOTE_CAPACITY} slots or {@link #REMOTE_MAX_BYTES}, sorted by class so that
 * it takes one lock per class and shard met.
 *
 * <p><b>Owners.</b> A platform thread owns its cache; when it ends, the heap reclaims the cache and
 * gives its slots back (see {@link SpanHeap}). Virtual threads never get their own: they share a
 * small fixed set of caches, each used under {@link #sharedLock}.
 *
 * <p>Synchronization: owner thread only (or holders of {@link #sharedLock} for a shared cache).
 * {@link #state} is also read racily by statistics.
 */
final class ThreadCache {

    static final int CLASS_SHIFT = 6;
    static final int[] CAPACITY = new int[SizeClasses.CLASS_COUNT];
    /** Slot bytes the remote-free buffer holds at most before it sends them home. */
    static final long REMOTE_MAX_BYTES = 128 << 10;
    /** The stacks' bound plus the remote buffer's. */
    static final long MAX_CACHED_BYTES;

    /** The slot count's bits in a class's state word. */
    static final long COUNT_MASK = 0x7F;
    private static final int CAPACITY_SHIFT = 7;
    private static final int COUNTDOWN_SHIFT = 14;
    private static final long ONE_POP = 1L << COUNTDOWN_SHIFT;
    /** The count and capacity bits of a state word. */
    private static final long COUNT_AND_CAPACITY = ONE_POP - 1;
    /**
     * The countdown armed when profiling is off (or a drawn one would be longer): 2^48 pops, far
     * inside the 50-bit signed field, and long enough that re-arming it is never seen in a profile
     * of the slow path.
     */
    static final long UNSAMPLED_COUNTDOWN = 1L << 48;

    static {
        long total = 0;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            CAPACITY[c] = Math.clamp((64 << 10) / SizeClasses.SLOT_SIZE[c], 4, 1 << CLASS_SHIFT);
            total += (long) CAPACITY[c] * SizeClasses.SLOT_SIZE[c];
        }
        MAX_CACHED_BYTES = total + REMOTE_MAX_BYTES;
    }

    /** The owning platform thread, or null for a cache shared by virtual threads. */
    final Thread owner;
    /** The shard this cache refills from and takes pages from (see {@link ThreadCacheRegistry}). */
    final int shard;
    /**
     * {@link #shard} where page-table entries keep it ({@link PageHeap#LIST_SHARD_SHIFT}): the free
     * fast path XORs an entry with it, so a slot of another shard fails the slot check and takes
     * the remote path instead of landing in this cache.
     */
    final int shardTag;

    /** Slots the remote-free buffer holds at most before it sends them home in one batch. */
    static final int REMOTE_CAPACITY = 256;
    /**
     * The remote-free buffer: slots freed by the owner whose spans belong to another shard's
     * lists, with their classes, waiting to go home together (mimalloc returns such a block to its
     * page's owner, snmalloc batches them; so a freed block never becomes this thread's next
     * allocation next to another thread's data). Owner only; {@link #remoteCount} read racily.
     */
    final long[] remote = new long[REMOTE_CAPACITY];
    private final int[] remoteClass = new int[REMOTE_CAPACITY];
    /** The remote buffer sorted by class when it goes home (one lock per class and shard, not per slot). Owner only. */
    private final long[] remoteSorted = new long[REMOTE_CAPACITY];
    private final int[] classStart = new int[SizeClasses.CLASS_COUNT + 1];
    int remoteCount;
    /** Per class: slots in the remote buffer, and slots ever freed into it. Owner only, read racily. */
    private final long[] remoteHeld = new long[SizeClasses.CLASS_COUNT];
    /** Slot bytes in the remote buffer. Owner only. */
    private long remoteBytes;
    private final long[] remoteFrees = new long[SizeClasses.CLASS_COUNT];
    final SharedCacheLock sharedLock;
    /** The run of pages this thread's large objects are cut from without a lock; null for a shared cache, or when page caches are off. */
    final PageCache pageCache;
    /**
     * Longs of padding at each end of {@link #state} and {@link #top}, written on every pop and
     * push: two threads' caches may end up side by side on the Java heap (a GC moves them), and
     * without the padding their hot words could share a cache line. ({@link #slots} needs none at
     * its start, where class 0's unused area lies, and gets the same at its end.)
     */
    static final int PAD = 8;

    final long[] slots = new long[(SizeClasses.CLASS_COUNT << CLASS_SHIFT) + PAD];
    /** Per class: count, capacity and pops, packed as the class comment shows, at {@code PAD + c}. Class 0 has capacity 0. */
    final long[] state = new long[SizeClasses.CLASS_COUNT + 2 * PAD];
    /**
     * Per class: a copy of the stack's top entry ({@code slots[(c << 6) + count - 1]}, meaningless
     * when the count is 0). A pop returns it without first loading the count to index the stack,
     * which takes one load off the chain that a loop of allocate-and-free waits on.
     */
    final long[] top = new long[SizeClasses.CLASS_COUNT + 2 * PAD];
    /** Slots moved in from / out to the central lists, per class. Owner only, read racily. */
    final long[] slotsIn = new long[SizeClasses.CLASS_COUNT];
    final long[] slotsOut = new long[SizeClasses.CLASS_COUNT];
    /**
     * Per class: pops so far plus the current countdown ({@code pops == popsBase - countdown}),
     * set when the countdown is armed. Owner only, read racily (a reader that meets a re-arming
     * may be off by up to one countdown; exact at rest).
     */
    private final long[] popsBase = new long[SizeClasses.CLASS_COUNT];
    /** Mean bytes between two samples of the heap profile ({@link SpanHeapConfig#profileSampleBytes()}); 0 when off. */
    private final long sampleBytes;

    /**
     * A cache for {@code owner} (null: a shared cache) on {@code shard}, counting down to the heap profile's samples every
     * {@code sampleBytes} on average (0: profiling off).
     */
    ThreadCache(Thread owner, int shard, long sampleBytes) {
        this(owner, shard, sampleBytes, 0);
    }

    /** As above, with a page cache of runs up to {@code pageCachePages} pages for an owned cache (none when 0). */
    ThreadCache(Thread owner, int shard, long sampleBytes, int pageCachePages) {
        this.owner = owner;
        this.shard = shard;
        this.shardTag = shard << PageHeap.LIST_SHARD_SHIFT;
        this.sharedLock = owner == null ? new SharedCacheLock() : null;
        this.pageCache = owner == null || pageCachePages == 0 ? null : new PageCache(pageCachePages);
        this.sampleBytes = sampleBytes;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            state[PAD + c] = (long) CAPACITY[c] << CAPACITY_SHIFT;
            arm(c, 0);
        }
    }

    /**
     * Pops a slot of class {@code c} (tagged); 0 if the stack is empty or the class's countdown
     * has run out (then {@link #popSlow} serves the pop).
     */
    long pop(int c) {
        long s = state[PAD + c];
        int n = (int) (s & COUNT_MASK);
        if (n == 0 || s < 0) {
            return 0;
        }
        long address = top[PAD + c];
        // The next top (for n == 1 an unused entry below the class's area; c >= 1 keeps it in range).
        top[PAD + c] = slots[(c << CLASS_SHIFT) + n - 2];
        state[PAD + c] = s - 1 - ONE_POP;
        return address;
    }

    /** Pushes a freed slot of class {@code c}; false if the stack is full (or {@code c} is 0). */
    boolean push(int c, long address) {
        long s = state[PAD + c];
        int n = (int) (s & COUNT_MASK);
        if (n == (int) ((s >>> CAPACITY_SHIFT) & COUNT_MASK)) {
            return false;
        }
        slots[(c << CLASS_SHIFT) + n] = address;
        top[PAD + c] = address;
        state[PAD + c] = s + 1;
        return true;
    }

    /** Slots of class {@code c} on the stack (racy when read by another thread). */
    int count(int c) {
        return (int) (state[PAD + c] & COUNT_MASK);
    }

    /** Allocations served from class {@code c}'s stack so far (racy when read by another thread). */
    long pops(int c) {
        return popsBase[c] - (state[PAD + c] >> COUNTDOWN_SHIFT);
    }

    /** Frees by this cache's users so far, of class {@code c}: into its stack (derived from the other counters) and remote. */
    long frees(int c) {
        long s = state[PAD + c];
        return (s & COUNT_MASK) - slotsIn[c] + slotsOut[c] + (popsBase[c] - (s >> COUNTDOWN_SHIFT)) + remoteFrees[c];
    }

    /**
     * Whether the next pop of class {@code c} is a sample of the heap profile: its countdown has
     * run out and profiling is on. The caller asks before {@link #popSlow}, which re-arms.
     */
    boolean sampleDue(int c) {
        return sampleBytes != 0 && state[PAD + c] < 0;
    }

    /**
     * Pops pending before class {@code c}'s next sample, drawn so that every pop is sampled on its
     * own with probability {@code 1 - exp(-slotSize / sampleBytes)}: the slots of a class are a
     * stream of {@code slotSize}-byte steps, and a sample point every Exp(mean
     * {@code sampleBytes}) bytes falls in a geometric number of them ({@code ceil(X / slotSize)}),
     * the chance {@link HeapProfiler#sampleChance} that the profile's estimates divide by. One
     * stream per class and cache still samples the heap's bytes as one Poisson process would, the
     * points of such a process in disjoint stretches being independent.
     */
    private long drawCountdown(int c) {
        if (sampleBytes == 0) {
            return UNSAMPLED_COUNTDOWN;
        }
        double gapBytes = HeapProfiler.exponentialGap(sampleBytes);
        return (long) Math.clamp(Math.ceil(gapBytes / SizeClasses.SLOT_SIZE[c]), 1.0, (double) UNSAMPLED_COUNTDOWN);
    }

    /**
     * Arms class {@code c}'s countdown after {@code popsSoFar} pops. For the k-th pop from now to
     * be the one that finds the word negative, the field holds {@code k - 2}: each of the first
     * {@code k - 1} pops subtracts one, down to -1, which the k-th pop sees.
     */
    private void arm(int c, long popsSoFar) {
        long field = drawCountdown(c) - 2;
        popsBase[c] = popsSoFar + field;
        state[PAD + c] = (state[PAD + c] & COUNT_AND_CAPACITY) | field << COUNTDOWN_SHIFT;
    }

    /** Slots of class {@code c} in the remote buffer (racy when read by another thread). */
    long remoteHeld(int c) {
        return remoteHeld[c];
    }

    /** Buffers a freed slot of class {@code c} that belongs to another shard; a full buffer goes home first. */
    void pushRemote(int c, long address, CentralLists centrals) {
        if (remoteCount == REMOTE_CAPACITY || remoteBytes + SizeClasses.SLOT_SIZE[c] > REMOTE_MAX_BYTES) {
            flushRemote(centrals);
        }
        remoteBytes += SizeClasses.SLOT_SIZE[c];
        remote[remoteCount] = address;
        remoteClass[remoteCount] = c;
        remoteCount++;
        remoteHeld[c]++;
        remoteFrees[c]++;
    }

    /** Sends the remote buffer's slots to their shards' central lists. */
    void flushRemote(CentralLists centrals) {
        if (remoteCount == 0) {
            return;
        }
        // A counting sort by class: remoteHeld already holds each class's count.
        int[] start = classStart;
        start[0] = 0;
        for (int c = 1; c <= SizeClasses.CLASS_COUNT; c++) {
            start[c] = start[c - 1] + (int) remoteHeld[c - 1];
        }
        for (int i = 0; i < remoteCount; i++) {
            remoteSorted[start[remoteClass[i]]++] = remote[i];
        }
        int from = 0;
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            int n = (int) remoteHeld[c];
            if (n > 0) {
                centrals.giveBack(c, remoteSorted, from, n);
                remoteHeld[c] = 0;
                from += n;
            }
        }
        remoteCount = 0;
        remoteBytes = 0;
    }

    private void setCount(int c, int n) {
        state[PAD + c] = (state[PAD + c] & ~COUNT_MASK) | n;
        if (n > 0) {
            top[PAD + c] = slots[(c << CLASS_SHIFT) + n - 1];
        }
    }

    /**
     * The pop slow path, for a pop that {@link #pop} refused: refills an empty class {@code c}
     * with half a capacity from its central list, pops one, and when the countdown has run out
     * (this pop is the class's sample, if profiling is on: {@link #sampleDue}) arms the next one.
     * Returns the tagged address.
     */
    long popSlow(int c, CentralLists centrals) {
        int base = c << CLASS_SHIFT;
        long s = state[PAD + c];
        int n = (int) (s & COUNT_MASK);
        long tagged;
        if (n == 0) {
            int moved = centrals.of(shard, c).refill(slots, base, Math.max(1, CAPACITY[c] / 2));
            slotsIn[c] += moved;
            tagged = slots[base + moved - 1];
            setCount(c, moved - 1);
        } else {
            tagged = top[PAD + c];
            setCount(c, n - 1);
        }
        if (s < 0) {
            arm(c, pops(c) + 1); // setCount left the countdown as it was: this pop is the one more
        } else {
            state[PAD + c] -= ONE_POP;
        }
        return tagged;
    }

    /** The push slow path: gives the older half of class {@code c} back to the central lists, then pushes. */
    void drainHalfAndPush(int c, CentralLists centrals, long address) {
        int base = c << CLASS_SHIFT;
        int n = count(c);
        int half = Math.max(1, n / 2);
        centrals.giveBack(c, slots, base, half);
        System.arraycopy(slots, base + half, slots, base, n - half);
        setCount(c, n - half);
        slotsOut[c] += half;
        push(c, address);
    }

    /** Gives every cached slot back to the central lists, the remote buffer's too, and the page cache's run to its page heap. */
    void flush(CentralLists centrals) {
        if (pageCache != null) {
            pageCache.takeBack();
        }
        flushRemote(centrals);
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            int n = count(c);
            if (n > 0) {
                centrals.giveBack(c, slots, c << CLASS_SHIFT, n);
                slotsOut[c] += n;
                setCount(c, 0);
            }
        }
    }
}
