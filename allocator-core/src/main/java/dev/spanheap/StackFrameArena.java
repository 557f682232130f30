package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A frame on a thread's {@link FrameStack}, handed to the caller as a confined {@link Arena}
 * (what {@link SpanHeap#newConfinedArena()} returns). Allocation bumps the stack's top; closing
 * the innermost frame pops it. There is no Go analogue: Go's stack frames belong to functions.
 *
 * <p><b>Scope.</b> {@link MemorySegment.Scope} is sealed, so the frame borrows one: a JDK
 * {@link Arena#ofConfined()} opened with the frame and closed with it. Each segment the frame
 * hands out is its address reinterpreted into that scope, so after
 * {@link #close()} every access to them throws {@link IllegalStateException}, and accesses from
 * other threads throw {@link WrongThreadException}, exactly as with the JDK's arena.
 *
 * <p><b>Allocation.</b> Only the innermost frame bumps the top. A request larger than
 * {@link FrameStack#LARGEST_STACK_REQUEST}, aligned to more than
 * {@link FrameStack#LARGEST_STACK_ALIGNMENT}, or made while an inner frame is open, is served by
 * the heap, tied to this frame's scope and freed when the frame closes
 * ({@link FrameStack#addFallback}).
 *
 * <p>Synchronization: owner thread only (every method checks the caller first).
 */
final class StackFrameArena implements Arena {

    final FrameStack stack;
    /** The JDK arena lending its scope; closed with the frame. */
    private final Arena scopeArena;
    /** This frame's depth index on its stack: it is the innermost frame while {@code index == stack.depth - 1} and it is open. */
    final int index;
    /** Where the frame started: the stack's chunk index and top when it opened. */
    private final int startChunk;
    private final long start;
    /** Owner only. */
    private boolean closed;

    StackFrameArena(FrameStack stack, Arena scopeArena, int index, int startChunk, long start) {
        this.stack = stack;
        this.scopeArena = scopeArena;
        this.index = index;
        this.startChunk = startChunk;
        this.start = start;
    }

    private boolean isInnermost(FrameStack s) {
        return index == s.depth - 1 && !closed;
    }

    /**
     * Allocates {@code byteSize} zero-filled bytes aligned to {@code byteAlignment}. The fast path:
     * owner and innermost checks, one add and mask, one compare with the chunk's limit, one reinterpret.
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        FrameStack s = stack;
        long alignmentMask = byteAlignment - 1;
        if (Thread.currentThread() == s.owner && isInnermost(s)
                && Long.compareUnsigned(byteSize, FrameStack.LARGEST_STACK_REQUEST) <= 0
                && Long.compareUnsigned(alignmentMask, FrameStack.LARGEST_STACK_ALIGNMENT - 1) <= 0
                && (byteAlignment & alignmentMask) == 0) {
            long start = (s.top + alignmentMask) & ~alignmentMask;
            long end = start + byteSize;
            if (end <= s.limit) {
                s.top = end;
                return segmentAt(start, byteSize);
            }
        }
        return allocateSlow(byteSize, byteAlignment);
    }

    /**
     * The segment for {@code byteSize} bytes at {@code address} in this frame's scope. One
     * reinterpret per allocation instead of slicing a window reinterpreted once per frame: the
     * window is one more segment object per frame (JMH's GC profiler: 168 instead of 216 bytes
     * allocated per open + allocate(64) + close); see {@code docs/design.md}, "The stack".
     */
    private MemorySegment segmentAt(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize, scopeArena, null);
    }

    /** Checks the caller and the arguments, then serves from the next chunk or from the heap. */
    private MemorySegment allocateSlow(long byteSize, long byteAlignment) {
        checkOwnerAndOpen();
        if (byteSize < 0) {
            throw Errors.negativeSize("stack arena allocate", byteSize);
        }
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw Errors.badAlignment("stack arena allocate", byteAlignment);
        }
        FrameStack s = stack;
        if (isInnermost(s) && byteSize <= FrameStack.LARGEST_STACK_REQUEST
                && byteAlignment <= FrameStack.LARGEST_STACK_ALIGNMENT) {
            return segmentAt(s.allocateInNextChunk(byteSize, byteAlignment - 1), byteSize);
        }
        MemorySegment fromHeap = s.stacks.heap.allocate(byteSize, byteAlignment);
        s.addFallback(fromHeap.address(), index);
        return fromHeap.reinterpret(scopeArena, null);
    }

    private void checkOwnerAndOpen() {
        if (Thread.currentThread() != stack.owner) {
            throw new WrongThreadException("stack arena: owned by " + stack.owner + ", used by " + Thread.currentThread());
        }
        if (closed) {
            throw new IllegalStateException("stack arena: already closed");
        }
    }

    @Override
    public MemorySegment.Scope scope() {
        return scopeArena.scope();
    }

    /**
     * Closes the arena: its segments become inaccessible at once, its heap fallbacks are freed,
     * and, if it is the innermost frame, it is popped (with any frames below closed out of order).
     *
     * @throws WrongThreadException  if called from a thread other than the owner
     * @throws IllegalStateException if already closed
     */
    @Override
    public void close() {
        checkOwnerAndOpen();
        closed = true;
        scopeArena.close();
        FrameStack s = stack;
        if (s.fallbackCount != 0) {
            s.freeFallbacksOf(index);
        }
        if (index == s.depth - 1) {
            s.pop(index, startChunk, start);
        } else {
            s.closedOutOfOrder(index, startChunk, start);
        }
    }

    @Override
    public String toString() {
        return "StackArena[" + (closed ? "closed" : "open") + ", owner " + stack.owner + "]";
    }
}
