package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

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
 * the heap, tied to this frame's scope and freed when the frame closes ({@link #fallbacks}).
 *
 * <p>Synchronization: owner thread only (every method checks the caller first).
 */
final class StackFrameArena implements Arena {

    final FrameStack stack;
    /** The JDK arena lending its scope; closed with the frame. */
    private final Arena scopeArena;
    /** The frame below this one, or null. */
    final StackFrameArena parent;
    /** Where this frame starts: the chunk index and the top when it was opened. */
    final int startChunk;
    final long startTop;
    /** Owner only. */
    boolean closed;
    /** Addresses of heap allocations to free on close ({@code fallbackCount} used). Owner only. */
    private long[] fallbacks;
    private int fallbackCount;

    StackFrameArena(FrameStack stack, Arena scopeArena, StackFrameArena parent, int startChunk, long startTop) {
        this.stack = stack;
        this.scopeArena = scopeArena;
        this.parent = parent;
        this.startChunk = startChunk;
        this.startTop = startTop;
    }

    /**
     * Allocates {@code byteSize} zero-filled bytes aligned to {@code byteAlignment}. The fast path:
     * owner and innermost checks, one add and mask, one compare with the chunk's limit, one slice.
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        FrameStack s = stack;
        long alignmentMask = byteAlignment - 1;
        if (Thread.currentThread() == s.owner && s.innermost == this
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
        if (s.innermost == this && byteSize <= FrameStack.LARGEST_STACK_REQUEST
                && byteAlignment <= FrameStack.LARGEST_STACK_ALIGNMENT) {
            return segmentAt(s.allocateInNextChunk(byteSize, byteAlignment - 1), byteSize);
        }
        MemorySegment fromHeap = s.stacks.heap.allocate(byteSize, byteAlignment);
        if (fallbacks == null) {
            fallbacks = new long[4];
        } else if (fallbackCount == fallbacks.length) {
            fallbacks = Arrays.copyOf(fallbacks, fallbackCount * 2);
        }
        fallbacks[fallbackCount++] = fromHeap.address();
        s.fallbackAllocations++;
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
        if (fallbackCount != 0) {
            freeFallbacks();
        }
        if (s.innermost == this) {
            s.pop(this);
        } else {
            s.closedOutOfOrder();
        }
    }

    private void freeFallbacks() {
        SpanHeap heap = stack.stacks.heap;
        if (!heap.isClosed()) {
            for (int i = 0; i < fallbackCount; i++) {
                heap.freeAddress(fallbacks[i]);
            }
        }
        fallbackCount = 0;
    }

    /** The owner ended with this frame open: its heap allocations go back (no one can reach them). */
    void freeFallbacksOfEndedOwner() {
        freeFallbacks();
    }

    /** The heap is closing on the owner thread: make the segments inaccessible; the memory goes with the heap. */
    void closeScopeForHeapClose() {
        if (!closed) {
            closed = true;
            scopeArena.close();
            fallbackCount = 0;
        }
    }

    @Override
    public String toString() {
        return "StackArena[" + (closed ? "closed" : "open") + ", owner " + stack.owner + "]";
    }
}
