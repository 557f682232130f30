package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The heap's stacks: one {@link FrameStack} per thread that opens a
 * {@link SpanHeap#newConfinedArena()}, the registry that finds them and gives back the stacks of
 * ended threads, and a small pool of clean first chunks for virtual threads. Go keeps a stack per
 * goroutine, taken from the heap's spans and given back when the goroutine ends; this is the same
 * idea for scoped native allocations.
 *
 * <h2>Open, allocate, close</h2>
 * <ol>
 * <li>Open: {@code table[threadId & 4095]} with an owner check finds the stack (a miss goes to
 *     {@link #stackSlow}); a JDK confined arena and a {@link StackFrameArena} holding the current
 *     top are created, and the depth goes up by one. No lock, no atomic instruction, no reference
 *     stored into a long-lived object.</li>
 * <li>Allocate: bump the top, compare with the chunk's limit, reinterpret the address into the
 *     frame's scope. Memory above the top is kept zero, so nothing is cleared here.</li>
 * <li>Close the innermost frame: close the JDK arena, clear {@code [frame start, top)} with
 *     {@link Zero#clear}, move the top back. A frame closed out of order is only marked; it is
 *     popped when the frames above it are.</li>
 * </ol>
 *
 * <h2>Lifetimes</h2>
 * A platform thread keeps its first chunk (and at most one spare) between frames; a virtual
 * thread gives every chunk back when its outermost frame closes, the first into {@link #cleanChunks}
 * (no clearing needed to reuse it), so parked virtual threads pin no stack. A thread that ends
 * gives its chunks back the next time the heap reclaims dead threads' caches
 * ({@link #reclaimDead}), at statistics, or when the registry grows.
 *
 * <p>Synchronization: {@link #table} entries and {@link #registered} are written under
 * {@link #lock}; entries are read without it by their owner. {@link #lock} is never held while
 * calling into the heap, so it may be taken under the heap's locks (statistics do).
 */
final class ThreadStacks {

    private static final int TABLE_BITS = 12;
    /** Stacks are found by {@code threadId & TABLE_MASK}. */
    static final int TABLE_MASK = (1 << TABLE_BITS) - 1;
    private static final int POOL_SLOTS = 64;
    private static final int POOL_PROBES = 8;

    final SpanHeap heap;
    private final long base;
    /** The heap's address range with no scope: only for checking that chunks are clean (verification). */
    private final MemorySegment raw;

    /** Stacks of platform threads by {@code threadId & TABLE_MASK}. Written under lock, read by owners. */
    private final FrameStack[] table = new FrameStack[1 << TABLE_BITS];
    /** Stacks of virtual threads and of platform threads whose table entry is taken. */
    private final ThreadLocal<FrameStack> others = new ThreadLocal<>();
    /** Clean 8 KiB first chunks given back by virtual threads; 0 = empty slot. Lock-free. */
    private final AtomicLongArray cleanChunks = new AtomicLongArray(POOL_SLOTS);

    private final ReentrantLock lock = new ReentrantLock();
    /** Every stack not yet reclaimed. Guarded by lock. */
    private final List<FrameStack> registered = new ArrayList<>();
    /** Registry size at which registering sweeps dead stacks. Guarded by lock. */
    private int sweepAt = 64;
    /** Counters of reclaimed stacks. Guarded by lock. */
    private long retiredFramesOpened;
    private long retiredFallbacks;
    private long retiredOutOfOrder;
    private long retiredHighWater;

    private volatile boolean closed;

    ThreadStacks(SpanHeap heap) {
        this.heap = heap;
        this.base = heap.addressRange().base;
        this.raw = MemorySegment.ofAddress(base).reinterpret(heap.addressRange().addressSpaceBytes);
    }

    // ================================================================ open

    Arena newArena() {
        Thread thread = Thread.currentThread();
        FrameStack stack = table[(int) thread.threadId() & TABLE_MASK];
        if (stack == null || stack.owner != thread) {
            stack = stackSlow(thread);
        }
        return stack.open();
    }

    /** The current thread's stack when the table does not hold it: registered on first use. */
    private FrameStack stackSlow(Thread thread) {
        FrameStack stack = others.get();
        if (stack != null) {
            return stack;
        }
        stack = new FrameStack(thread, this);
        List<FrameStack> dead = null;
        lock.lock();
        try {
            if (closed) {
                throw Errors.closed("newConfinedArena");
            }
            if (registered.size() >= sweepAt) {
                dead = removeDeadLocked();
                sweepAt = Math.max(64, 2 * registered.size());
            }
            registered.add(stack);
            int index = (int) thread.threadId() & TABLE_MASK;
            FrameStack holder = table[index];
            if (!thread.isVirtual() && (holder == null || !holder.owner.isAlive())) {
                table[index] = stack;
            } else {
                others.set(stack);
            }
        } finally {
            lock.unlock();
        }
        reclaimAll(dead);
        return stack;
    }

    // ================================================================ chunks

    /** A clean chunk for index {@code index} of a stack: from the pool (first chunks) or the heap. */
    long takeChunk(int index) {
        if (index == 0) {
            int start = (int) Thread.currentThread().threadId();
            for (int i = 0; i < POOL_PROBES; i++) {
                int slot = (start + i) & (POOL_SLOTS - 1);
                long address = cleanChunks.get(slot);
                if (address != 0 && cleanChunks.compareAndSet(slot, address, 0)) {
                    return address;
                }
            }
        }
        return heap.allocate(FrameStack.chunkBytes(index), 8).address();
    }

    /** Gives back a clean chunk: first chunks to the pool while it has room, the rest to the heap. */
    void giveChunk(long address, int index) {
        if (index == 0 && !closed) {
            int start = (int) Thread.currentThread().threadId();
            for (int i = 0; i < POOL_PROBES; i++) {
                int slot = (start + i) & (POOL_SLOTS - 1);
                if (cleanChunks.get(slot) == 0 && cleanChunks.compareAndSet(slot, 0, address)) {
                    return;
                }
            }
        }
        heap.freeAddress(address);
    }

    /** Offset of the first non-zero byte in {@code [address, address + byteSize)}, or -1 (verification). */
    long firstNonZero(long address, long byteSize) {
        MemorySegment region = raw.asSlice(address - base, byteSize);
        for (long i = 0; i < byteSize; i++) {
            if (region.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return i;
            }
        }
        return -1;
    }

    // ================================================================ ended threads

    /** Gives back the chunks of stacks whose threads have ended. */
    void reclaimDead() {
        List<FrameStack> dead;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            dead = removeDeadLocked();
        } finally {
            lock.unlock();
        }
        reclaimAll(dead);
    }

    private List<FrameStack> removeDeadLocked() {
        List<FrameStack> dead = new ArrayList<>();
        for (int i = registered.size() - 1; i >= 0; i--) {
            FrameStack stack = registered.get(i);
            // isAlive() == false orders the ended owner's last writes before our reads (JLS 17.4.4).
            if (!stack.owner.isAlive()) {
                int last = registered.size() - 1;
                registered.set(i, registered.get(last));
                registered.remove(last);
                int index = (int) stack.owner.threadId() & TABLE_MASK;
                if (table[index] == stack) {
                    table[index] = null;
                }
                retiredFramesOpened += stack.framesOpened;
                retiredFallbacks += stack.fallbackAllocations;
                retiredOutOfOrder += stack.outOfOrderCloses;
                retiredHighWater = Math.max(retiredHighWater, stack.highWaterBytes);
                dead.add(stack);
            }
        }
        return dead;
    }

    private void reclaimAll(List<FrameStack> dead) {
        if (dead != null) {
            for (FrameStack stack : dead) {
                stack.reclaim();
            }
        }
    }

    // ================================================================ statistics, checks, close

    StackStats stats() {
        long stacks, chunks = 0, chunkBytes = 0, inUse = 0, highWater, openFrames = 0, opened, fallbacks, outOfOrder;
        lock.lock();
        try {
            stacks = registered.size();
            highWater = retiredHighWater;
            opened = retiredFramesOpened;
            fallbacks = retiredFallbacks;
            outOfOrder = retiredOutOfOrder;
            for (FrameStack stack : registered) {
                chunks += stack.chunkCount;
                chunkBytes += stack.chunkBytesHeld();
                inUse += stack.bytesInUse();
                highWater = Math.max(highWater, stack.highWaterBytes);
                openFrames += stack.depth();
                opened += stack.framesOpened;
                fallbacks += stack.fallbackAllocations;
                outOfOrder += stack.outOfOrderCloses;
            }
        } finally {
            lock.unlock();
        }
        long pooled = 0;
        for (int i = 0; i < POOL_SLOTS; i++) {
            if (cleanChunks.get(i) != 0) {
                pooled++;
            }
        }
        return new StackStats(stacks, chunks, chunkBytes, inUse, highWater, openFrames, opened, fallbacks,
                outOfOrder, pooled, pooled * FrameStack.FIRST_CHUNK_BYTES);
    }

    /**
     * The chunks the stacks hold from the heap (registered stacks' chunks and pooled ones), by
     * size: entry {@code i} counts chunks of {@link FrameStack#chunkBytes FrameStack.chunkBytes(i)}
     * bytes, the last entry every chunk of the largest size. They are live objects of the heap that
     * no caller allocated; a leak report leaves them out. Other threads' stacks are read racily,
     * as in {@link #stats()}.
     */
    long[] chunksBySize() {
        long[] counts = new long[FrameStack.LARGEST_CHUNK_SHIFT - FrameStack.FIRST_CHUNK_SHIFT + 1];
        lock.lock();
        try {
            for (FrameStack stack : registered) {
                for (int k = 0, n = stack.chunkCount; k < n; k++) {
                    counts[Math.min(k, counts.length - 1)]++;
                }
            }
        } finally {
            lock.unlock();
        }
        for (int i = 0; i < POOL_SLOTS; i++) {
            if (cleanChunks.get(i) != 0) {
                counts[0]++;
            }
        }
        return counts;
    }

    /** Checks the current thread's stack (owner only: other threads' stacks move under us). */
    String verifyCurrentThread() {
        Thread thread = Thread.currentThread();
        FrameStack stack = table[(int) thread.threadId() & TABLE_MASK];
        if (stack == null || stack.owner != thread) {
            stack = others.get();
        }
        return stack == null ? null : stack.verify();
    }

    /** Checks that every pooled chunk is clean. Exact only while no other thread opens arenas. */
    String verifyPooledChunks() {
        for (int i = 0; i < POOL_SLOTS; i++) {
            long address = cleanChunks.get(i);
            if (address != 0) {
                long dirty = firstNonZero(address, FrameStack.FIRST_CHUNK_BYTES);
                if (dirty >= 0) {
                    return "pooled chunk " + Errors.hex(address) + " is not zero at offset " + dirty;
                }
            }
        }
        return null;
    }

    /**
     * Refuses to let the heap close while a live thread (the caller included) has stack arenas
     * open: their segments point into memory the close would unmap, and the heap keeps no
     * reference to frames with which to close their scopes (see {@link FrameStack}). The depths
     * are read racily: a thread that opens an arena while another closes the heap races with the
     * close, as any use of a heap being closed does.
     */
    void checkClosable() {
        lock.lock();
        try {
            for (FrameStack stack : registered) {
                int open = stack.depth();
                if (open > 0 && stack.owner.isAlive()) {
                    throw new IllegalStateException("close: " + stack.owner + " has " + open
                            + " stack arenas open; they must be closed before the heap");
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The heap is closing (no live thread has a frame open): every chunk goes with the heap's memory. */
    void close() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
    }
}
