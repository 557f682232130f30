package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One thread's stack of frames for {@link SpanHeap#newConfinedArena()}: a list of chunks taken
 * from the heap, a bump pointer ({@link #top}) and where each open frame started. The Go analogue is a
 * goroutine's stack, except that it is made of chunks instead of being copied when it grows. See
 * {@link ThreadStacks} for the overview and {@code docs/design.md} ("The stack") for the rules.
 *
 * <p><b>Chunks.</b> Chunk {@code k} is {@code 8 KiB << k} bytes, capped at 64 KiB, allocated with
 * {@link SpanHeap#allocate} (so 8, 16 and 32 KiB chunks are small slots, 64 KiB ones whole pages).
 * {@link #chunkBase}{@code [k]} is its address. Chunks {@code 0..current} hold frames; chunk
 * {@code current + 1}, if held, is a spare (kept so that a frame that straddles a chunk boundary in
 * a loop does not take and return a chunk each time); no more are held once the frames above have
 * popped.
 *
 * <p><b>Invariants</b> (checked by {@link #verify}):
 * <ul>
 * <li>{@code chunkBase[current] <= top <= limit == chunkBase[current] + chunkBytes(current)};</li>
 * <li>for {@code k < current}, {@code chunkTop[k]} is where chunk k's frames end;
 *     {@code usedBelow == sum of (chunkTop[k] - chunkBase[k])};</li>
 * <li><b>clean above the top</b>: every byte from {@link #top} to the end of the current chunk,
 *     from {@code chunkTop[k]} to the end of each lower chunk, and of every spare chunk, is zero. So
 *     allocation never clears; popping a frame clears what its frames used, in one call.</li>
 * <li>frames {@code 0..depth-1} are on the stack; each frame object holds where it started
 *     (chunk, address), at or above where the frame below started;</li>
 * <li>the innermost frame ({@code depth - 1}) is open; frames below it may be closed out of LIFO
 *     order: such a frame is marked in {@code closedFlag} with its start, and popped together
 *     with the last open frame above it ({@code closedBelow} counts the marks).</li>
 * </ul>
 *
 * <p><b>Nothing per frame on the hot path.</b> Opening a frame writes only {@link #depth} and a
 * counter here; the frame object carries its own index and start, and the stack holds no
 * reference to its frames. Storing a freshly allocated frame into this long-lived object on every
 * open would run G1's post-write barrier each time (measured: about 5 ns per open and close), and
 * per-depth arrays of starts cost three bounds-checked stores per open (about 4 ns of open + close,
 * measured together with a release store of the depth that is gone too). Only a frame closed out
 * of order writes its start here. The price: the heap cannot reach a thread's open frames, so it
 * refuses to close while any live thread has one open.
 *
 * <p>Synchronization: every field except the final ones is written by the owner thread only.
 * Other threads read {@link #depth} (the heap's close check) and the counters (statistics) racily.
 */
final class FrameStack {

    static final int FIRST_CHUNK_SHIFT = 13;
    static final int LARGEST_CHUNK_SHIFT = 16;
    static final long FIRST_CHUNK_BYTES = 1L << FIRST_CHUNK_SHIFT;
    /** Requests larger than this go to the heap and are freed when their arena closes. */
    static final long LARGEST_STACK_REQUEST = 16 << 10;
    /** Alignments larger than this go to the heap (chunks are aligned to 8 KiB). */
    static final long LARGEST_STACK_ALIGNMENT = 4096;

    private static final VarHandle DEPTH;

    static {
        try {
            DEPTH = MethodHandles.lookup().findVarHandle(FrameStack.class, "depth", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Thread owner;
    /** Whether the owner is a virtual thread: its stack gives every chunk back between frames. */
    private final boolean virtual;
    final ThreadStacks stacks;

    // Owner thread only.
    long top;
    long limit;
    /**
     * Frames closed out of LIFO order and not yet popped, by depth index: a flag, and where the
     * frame started (chunk, address). Written only by out-of-order closes and the pops that follow
     * them; {@code closedBelow} counts the flags set.
     */
    private boolean[] closedFlag = new boolean[8];
    private int[] closedChunk = new int[8];
    private long[] closedStart = new long[8];
    private int closedBelow;
    /** Heap allocations of open frames (address, frame index), {@code fallbackCount} used. */
    private long[] fallbackAddress = new long[4];
    private int[] fallbackFrame = new int[4];
    int fallbackCount;
    long[] chunkBase = new long[4];
    long[] chunkTop = new long[4];
    /** Chunks held (in use and spare). Owner only; read racily by statistics. */
    int chunkCount;
    int current = -1;
    long currentBase;
    long usedBelow;

    /**
     * Frames on the stack, including those closed out of order and not yet popped. Owner writes
     * plainly; other threads read it racily with {@link #depth()}, for statistics and for the
     * heap's close check, which is a best effort by nature (see {@link ThreadStacks#checkClosable}).
     */
    int depth;

    // Counters: owner writes, statistics read racily.
    long framesOpened;
    long fallbackAllocations;
    long outOfOrderCloses;
    long highWaterBytes;

    FrameStack(Thread owner, ThreadStacks stacks) {
        this.owner = owner;
        this.virtual = owner.isVirtual();
        this.stacks = stacks;
    }

    static long chunkBytes(int index) {
        return 1L << Math.min(FIRST_CHUNK_SHIFT + index, LARGEST_CHUNK_SHIFT);
    }

    int depth() {
        return (int) DEPTH.getOpaque(this);
    }

    /** Bytes of the chunks held (owner, or racy: a racy reader may see a count one off). */
    long chunkBytesHeld() {
        long bytes = 0;
        for (int k = 0, n = chunkCount; k < n; k++) {
            bytes += chunkBytes(k);
        }
        return bytes;
    }

    /** Bytes handed out by frames on this stack now (owner, or racy). */
    long bytesInUse() {
        return current < 0 ? 0 : usedBelow + (top - currentBase);
    }

    // ================================================================ open

    /** Opens a frame on top of the stack: a new JDK confined arena gives it its scope. */
    StackFrameArena open() {
        if (chunkCount == 0) {
            takeFirstChunk();
        }
        Arena scope = Arena.ofConfined();
        int index = depth;
        depth = index + 1;
        framesOpened++;
        return new StackFrameArena(this, scope, index, current, top);
    }

    private void takeFirstChunk() {
        long address = stacks.takeChunk(0);
        addChunk(address, 0);
        current = 0;
        currentBase = address;
        top = address;
        limit = address + FIRST_CHUNK_BYTES;
        usedBelow = 0;
    }

    private void addChunk(long address, int index) {
        if (index == chunkBase.length) {
            chunkBase = java.util.Arrays.copyOf(chunkBase, index * 2);
            chunkTop = java.util.Arrays.copyOf(chunkTop, index * 2);
        }
        chunkBase[index] = address;
        chunkCount = index + 1;
    }

    // ================================================================ allocate (slow paths)

    /**
     * Moves the top to the next chunk (taking one from the heap if no spare is held) until a
     * request of {@code byteSize} at {@code alignmentMask + 1} fits; returns its address. The
     * caller checked that the request is at most {@link #LARGEST_STACK_REQUEST} and the alignment at
     * most {@link #LARGEST_STACK_ALIGNMENT}, so a chunk of at least 16 KiB always fits it.
     */
    long allocateInNextChunk(long byteSize, long alignmentMask) {
        while (true) {
            if (current + 1 == chunkCount) {
                // Before anything moves: if the heap refuses (OutOfMemoryError), the stack is unchanged.
                addChunk(stacks.takeChunk(chunkCount), chunkCount);
            }
            chunkTop[current] = top;
            usedBelow += top - currentBase;
            current++;
            currentBase = chunkBase[current];
            top = currentBase;
            limit = currentBase + chunkBytes(current);
            long start = (top + alignmentMask) & ~alignmentMask;
            long end = start + byteSize;
            if (end <= limit) {
                top = end;
                return start;
            }
        }
    }

    // ================================================================ close

    /**
     * Pops frame {@code index}, which was the innermost and has just been closed, and which started
     * at {@code (chunk, start)}; with it go the frames right below it that were closed out of order.
     * Clears the memory they used and gives idle chunks back.
     */
    void pop(int index, int chunk, long start) {
        long inUse = usedBelow + (top - currentBase);
        if (inUse > highWaterBytes) {
            highWaterBytes = inUse;
        }
        int lowest = index;
        if (closedBelow != 0) {
            while (lowest > 0 && lowest - 1 < closedFlag.length && closedFlag[lowest - 1]) {
                lowest--;
                closedFlag[lowest] = false;
                closedBelow--;
                chunk = closedChunk[lowest];
                start = closedStart[lowest];
            }
        }
        depth = lowest;
        // No closed-heap check: a heap does not close while a live thread has frames open.
        if (chunk == current) {
            if (start != top) {
                Zero.clear(start, top - start);
                top = start;
            }
        } else {
            unwindAcrossChunks(chunk, start);
        }
        if (lowest == 0 && virtual) {
            giveBackAllChunks();
        }
    }

    /** Pops to {@code (chunk, address)} from a higher chunk: clears every chunk above, keeps one spare. */
    private void unwindAcrossChunks(int chunk, long address) {
        Zero.clear(currentBase, top - currentBase);
        for (int k = current - 1; k > chunk; k--) {
            Zero.clear(chunkBase[k], chunkTop[k] - chunkBase[k]);
        }
        Zero.clear(address, chunkTop[chunk] - address);
        current = chunk;
        currentBase = chunkBase[chunk];
        top = address;
        limit = currentBase + chunkBytes(chunk);
        long below = 0;
        for (int k = 0; k < chunk; k++) {
            below += chunkTop[k] - chunkBase[k];
        }
        usedBelow = below;
        for (int k = chunkCount - 1; k > current + 1; k--) {
            stacks.giveChunk(chunkBase[k], k);
            chunkCount = k;
        }
    }

    /** A virtual thread's stack holds no chunk between frames (its outermost frame just popped). */
    private void giveBackAllChunks() {
        for (int k = chunkCount - 1; k >= 0; k--) {
            stacks.giveChunk(chunkBase[k], k);
        }
        chunkCount = 0;
        current = -1;
        currentBase = top = limit = usedBelow = 0;
    }

    /**
     * Records that frame {@code index}, which started at {@code (chunk, start)}, was closed out of
     * LIFO order; its memory is popped with the frames above it.
     */
    void closedOutOfOrder(int index, int chunk, long start) {
        if (index >= closedFlag.length) {
            int length = Math.max(closedFlag.length * 2, index + 1);
            closedFlag = java.util.Arrays.copyOf(closedFlag, length);
            closedChunk = java.util.Arrays.copyOf(closedChunk, length);
            closedStart = java.util.Arrays.copyOf(closedStart, length);
        }
        closedFlag[index] = true;
        closedChunk[index] = chunk;
        closedStart[index] = start;
        closedBelow++;
        outOfOrderCloses++;
    }

    // ================================================================ fallbacks

    /** Records a heap allocation of frame {@code index}, to free when it closes. */
    void addFallback(long address, int index) {
        if (fallbackCount == fallbackAddress.length) {
            fallbackAddress = java.util.Arrays.copyOf(fallbackAddress, fallbackCount * 2);
            fallbackFrame = java.util.Arrays.copyOf(fallbackFrame, fallbackCount * 2);
        }
        fallbackAddress[fallbackCount] = address;
        fallbackFrame[fallbackCount] = index;
        fallbackCount++;
        fallbackAllocations++;
    }

    /** Frees the heap allocations of frame {@code index} (it is closing). */
    void freeFallbacksOf(int index) {
        for (int i = fallbackCount - 1; i >= 0; i--) {
            if (fallbackFrame[i] == index) {
                long address = fallbackAddress[i];
                fallbackCount--;
                fallbackAddress[i] = fallbackAddress[fallbackCount];
                fallbackFrame[i] = fallbackFrame[fallbackCount];
                stacks.heap.freeAddress(address);
            }
        }
    }

    /**
     * Gives every chunk back to the heap: the owner has ended (its open frames, if any, are confined
     * to a thread that no longer runs, so no one can reach their memory). Called with the owner dead.
     */
    void reclaim() {
        for (int i = 0; i < fallbackCount; i++) {
            stacks.heap.freeAddress(fallbackAddress[i]);
        }
        fallbackCount = 0;
        for (int k = chunkCount - 1; k >= 0; k--) {
            stacks.heap.freeAddress(chunkBase[k]); // not to the pool: leaked frames may have left it dirty
        }
        chunkCount = 0;
        current = -1;
    }

    // ================================================================ invariants

    /** The first broken invariant of this stack, or null. Owner thread only, heap open. */
    String verify() {
        if (chunkCount == 0) {
            return current == -1 && depth == 0 ? null
                    : "stack of " + owner + " holds no chunk but has current chunk " + current + " or open frames";
        }
        if (current < 0 || current >= chunkCount || chunkCount > current + 2) {
            return "stack of " + owner + ": current chunk " + current + " of " + chunkCount + " held";
        }
        if (currentBase != chunkBase[current] || top < currentBase || limit != currentBase + chunkBytes(current) || top > limit) {
            return "stack of " + owner + ": top " + Errors.hex(top) + " outside chunk " + current + " at "
                    + Errors.hex(chunkBase[current]) + " (" + chunkBytes(current) + " bytes)";
        }
        long below = 0;
        for (int k = 0; k < current; k++) {
            below += chunkTop[k] - chunkBase[k];
            long dirty = stacks.firstNonZero(chunkTop[k], chunkBase[k] + chunkBytes(k) - chunkTop[k]);
            if (dirty >= 0) {
                return "stack of " + owner + ": chunk " + k + " is not zero above its top " + Errors.hex(chunkTop[k]) + " at offset " + dirty;
            }
        }
        if (below != usedBelow) {
            return "stack of " + owner + ": usedBelow " + usedBelow + " but chunks below hold " + below;
        }
        long dirty = stacks.firstNonZero(top, limit - top);
        if (dirty >= 0) {
            return "stack of " + owner + ": memory above the top " + Errors.hex(top) + " is not zero at offset " + dirty;
        }
        for (int k = current + 1; k < chunkCount; k++) {
            dirty = stacks.firstNonZero(chunkBase[k], chunkBytes(k));
            if (dirty >= 0) {
                return "stack of " + owner + ": spare chunk " + k + " is not zero at offset " + dirty;
            }
        }
        int flags = 0;
        for (int f = 0; f < closedFlag.length; f++) {
            if (!closedFlag[f]) {
                continue;
            }
            flags++;
            if (f >= depth - 1) {
                return "stack of " + owner + ": frame " + f + " is marked closed out of order but depth is " + depth;
            }
            if (closedChunk[f] > current || (closedChunk[f] == current && closedStart[f] > top)) {
                return "stack of " + owner + ": frame " + f + ", closed out of order, starts above the top";
            }
        }
        if (flags != closedBelow) {
            return "stack of " + owner + ": " + flags + " frames marked closed out of order, but closedBelow is " + closedBelow;
        }
        for (int i = 0; i < fallbackCount; i++) {
            if (fallbackFrame[i] < 0 || fallbackFrame[i] >= depth) {
                return "stack of " + owner + ": a heap fallback belongs to frame " + fallbackFrame[i] + " of " + depth;
            }
        }
        return null;
    }
}
