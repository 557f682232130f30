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
 * <li>frames {@code 0..depth-1} are on the stack; frame {@code i} started at
 *     {@code (frameChunk[i], frameStart[i])}, at or above where frame {@code i-1} started;</li>
 * <li>the innermost frame ({@code depth - 1}) is open; frames below it may be closed
 *     ({@link #frameClosed}, closed out of LIFO order) and are popped together with the last open
 *     frame above them.</li>
 * </ul>
 *
 * <p><b>No references on the hot path.</b> Frames are described by primitive arrays indexed by
 * depth, and a frame knows its index; the stack holds no reference to its frames. Storing a
 * freshly allocated frame into this long-lived object on every open would run G1's post-write
 * barrier each time (measured: about 8 ns per open and close, a quarter of the whole
 * open + allocate + close). The price: the heap cannot reach a thread's open frames, so it refuses
 * to close while any live thread has one open.
 *
 * <p>Synchronization: every field except the final ones is written by the owner thread only.
 * {@link #depth} is published with release stores so that the heap's close can tell whether
 * another thread has frames open; the counters are read racily by statistics.
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
    /** Per frame, by depth index: where it started (address, chunk) and whether it was closed out of order. */
    long[] frameStart = new long[16];
    int[] frameChunk = new int[16];
    boolean[] frameClosed = new boolean[16];
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
     * with release stores and reads plainly; other threads read with {@link #depth()}.
     */
    int depth;

    // Counters: owner writes, statistics read racily.
    long framesOpened;
    long fallbackAllocations;
    long outOfOrderCloses;
    long highWaterBytes;
    /** Bytes of the chunks held, kept with chunkCount. */
    long chunkBytesHeld;

    FrameStack(Thread owner, ThreadStacks stacks) {
        this.owner = owner;
        this.virtual = owner.isVirtual();
        this.stacks = stacks;
    }

    static long chunkBytes(int index) {
        return 1L << Math.min(FIRST_CHUNK_SHIFT + index, LARGEST_CHUNK_SHIFT);
    }

    int depth() {
        return (int) DEPTH.getAcquire(this);
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
        int index = depth;
        if (index == frameStart.length) {
            growFrames();
        }
        frameStart[index] = top;
        frameChunk[index] = current;
        frameClosed[index] = false;
        StackFrameArena frame = new StackFrameArena(this, Arena.ofConfined(), index);
        DEPTH.setRelease(this, index + 1);
        framesOpened++;
        return frame;
    }

    private void growFrames() {
        int length = frameStart.length * 2;
        frameStart = java.util.Arrays.copyOf(frameStart, length);
        frameChunk = java.util.Arrays.copyOf(frameChunk, length);
        frameClosed = java.util.Arrays.copyOf(frameClosed, length);
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
        chunkBytesHeld += chunkBytes(index);
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
     * Pops frame {@code index}, which was the innermost and has just been closed, together with
     * every frame below it that was closed out of order; clears the memory they used and gives
     * idle chunks back.
     */
    void pop(int index) {
        long inUse = usedBelow + (top - currentBase);
        if (inUse > highWaterBytes) {
            highWaterBytes = inUse;
        }
        int lowest = index;
        while (lowest > 0 && frameClosed[lowest - 1]) {
            lowest--;
        }
        DEPTH.setRelease(this, lowest);
        // No closed-heap check: a heap does not close while a live thread has frames open.
        if (frameChunk[lowest] == current) {
            long start = frameStart[lowest];
            if (start != top) {
                stacks.clear(start, top - start);
                top = start;
            }
        } else {
            unwindAcrossChunks(frameChunk[lowest], frameStart[lowest]);
        }
        if (lowest == 0 && virtual) {
            giveBackAllChunks();
        }
    }

    /** Pops to {@code (chunk, address)} from a higher chunk: clears every chunk above, keeps one spare. */
    private void unwindAcrossChunks(int chunk, long address) {
        stacks.clear(currentBase, top - currentBase);
        for (int k = current - 1; k > chunk; k--) {
            stacks.clear(chunkBase[k], chunkTop[k] - chunkBase[k]);
        }
        stacks.clear(address, chunkTop[chunk] - address);
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
            chunkBytesHeld -= chunkBytes(k);
            chunkCount = k;
        }
    }

    /** A virtual thread's stack holds no chunk between frames (its outermost frame just popped). */
    private void giveBackAllChunks() {
        for (int k = chunkCount - 1; k >= 0; k--) {
            stacks.giveChunk(chunkBase[k], k);
        }
        chunkCount = 0;
        chunkBytesHeld = 0;
        current = -1;
        currentBase = top = limit = usedBelow = 0;
    }

    /** Marks frame {@code index} closed out of LIFO order; its memory is popped with the frames above it. */
    void closedOutOfOrder(int index) {
        frameClosed[index] = true;
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
        chunkBytesHeld = 0;
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
        for (int f = 0; f < depth; f++) {
            if (frameChunk[f] > current || (frameChunk[f] == current && frameStart[f] > top)) {
                return "stack of " + owner + ": frame " + f + " starts above the top";
            }
            if (f > 0 && (frameChunk[f] < frameChunk[f - 1]
                    || (frameChunk[f] == frameChunk[f - 1] && frameStart[f] < frameStart[f - 1]))) {
                return "stack of " + owner + ": frame " + f + " starts below frame " + (f - 1);
            }
        }
        if (depth > 0 && frameClosed[depth - 1]) {
            return "stack of " + owner + ": the innermost frame is closed";
        }
        for (int i = 0; i < fallbackCount; i++) {
            if (fallbackFrame[i] < 0 || fallbackFrame[i] >= depth) {
                return "stack of " + owner + ": a heap fallback belongs to frame " + fallbackFrame[i] + " of " + depth;
            }
        }
        return null;
    }
}
