package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The reference model of a heap: which blocks should be live, what each holds, and how many
 * allocations and frees the heap should have counted. {@link #run} plays a sequence of
 * {@link HeapAction}s against a fresh heap and this model side by side, and after every step
 * checks the heap against the model:
 * <ul>
 * <li>the core's own invariants ({@code verifyInvariants()});</li>
 * <li>every new block is the size asked for, aligned, inside the heap, zero-filled (unless asked
 *     uninitialized) and overlaps no live block;</li>
 * <li>what was written to a block is intact until it is freed (a header word is checked after
 *     every step, the whole pattern when the block is freed, reallocated or handed over);</li>
 * <li>{@link HeapStats} agrees: live objects, allocations and frees counted;</li>
 * <li>at the end, with everything freed and the caches flushed, nothing is live and every page is free.</li>
 * </ul>
 * Blocks up to 64 KiB are written and checked whole; larger ones in three 4 KiB windows (start,
 * middle, end), which keeps MiB-sized and arena-sized blocks cheap.
 */
final class HeapModel {

    private static final long WHOLE_LIMIT = 64 * 1024;
    private static final long WINDOW = 4096;
    private static final int FREED_KEPT = 64;

    /** A block the model believes live. {@code segment} is null for a raw {@code allocateAddress} block. */
    private record Block(long id, MemorySegment segment, long address, long size, boolean raw, boolean dedicated) {
        byte fill() {
            return (byte) (id % 251 + 1);
        }

        MemorySegment memory() {
            return raw ? MemorySegment.ofAddress(address).reinterpret(size) : segment;
        }

        @Override
        public String toString() {
            return "block #" + id + " at 0x" + Long.toHexString(address) + " (" + size + " bytes" + (raw ? ", raw" : "") + ")";
        }
    }

    /** What the sequences actually exercised (threads started, refusals, double frees caught...), for the run's summary. */
    static final Map<String, LongAdder> COVERAGE = new ConcurrentSkipListMap<>();
    /** The largest held bytes, live bytes and live objects any check saw, for the long runs' record. */
    static final java.util.concurrent.atomic.LongAccumulator PEAK_HELD = new java.util.concurrent.atomic.LongAccumulator(Math::max, 0);
    static final java.util.concurrent.atomic.LongAccumulator PEAK_LIVE_BYTES = new java.util.concurrent.atomic.LongAccumulator(Math::max, 0);
    static final java.util.concurrent.atomic.LongAccumulator PEAK_LIVE_OBJECTS = new java.util.concurrent.atomic.LongAccumulator(Math::max, 0);

    private final SpanHeap heap;
    private final boolean checked;
    /** Whether an allocation may be refused: a heap limit, or an address range of only a few arenas. */
    private final boolean mayRefuse;
    private final long addressSpaceBytes;
    private final List<Block> live = new ArrayList<>();
    private final TreeMap<Long, Block> byAddress = new TreeMap<>();
    private final List<Block> freed = new ArrayList<>();
    private long nextId = 1;
    private long allocations;
    private long frees;

    private HeapModel(SpanHeap heap) {
        this.heap = heap;
        this.checked = heap.config().checked();
        this.addressSpaceBytes = heap.config().addressSpaceBytes();
        this.mayRefuse = heap.config().maxHeapBytes() != Long.MAX_VALUE || addressSpaceBytes <= 4 * HeapProbe.ARENA_BYTES;
    }

    /** Plays {@code actions} on a new heap with {@code config}, checking after every step; closes the heap. */
    static void run(SpanHeapConfig config, List<HeapAction> actions) {
        try (SpanHeap heap = SpanHeap.create(config)) {
            HeapModel model = new HeapModel(heap);
            for (int step = 0; step < actions.size(); step++) {
                HeapAction action = actions.get(step);
                try {
                    count("action " + action.kind());
                    model.apply(action);
                    model.checkAgreement();
                } catch (RuntimeException | AssertionError | OutOfMemoryError e) {
                    e.addSuppressed(new Exception("at step " + step + ": " + action));
                    throw e;
                }
            }
            model.freeEverythingAndCheckEmpty();
        }
    }

    // ---------------------------------------------------------------- actions

    private void apply(HeapAction action) {
        switch (action.kind()) {
            case ALLOCATE -> allocating(action, () -> {
                MemorySegment segment = action.variant()
                        ? heap.allocateUninitialized(action.size(), action.alignment())
                        : heap.allocate(action.size(), action.alignment());
                return adopt(segment, action.size(), action.alignment(), !action.variant());
            });
            case ALLOCATE_ADDRESS -> allocating(action, () -> {
                long address = heap.allocateAddress(action.size());
                return adoptRaw(address, action.size());
            });
            case FREE -> {
                Block block = pickLive(action.pick(), false);
                if (block != null) {
                    checkWhole(block);
                    release(block, action.variant());
                }
            }
            case REALLOCATE -> {
                Block block = pickLive(action.pick(), true);
                if (block != null) {
                    reallocate(block, action);
                }
            }
            case HANDOFF_ALLOCATE -> allocating(action, () -> {
                MemorySegment segment = onOtherThread(action.variant(), () -> {
                    MemorySegment s = heap.allocate(action.size(), action.alignment());
                    checkZero(s, "allocate on another thread");
                    return s;
                });
                return adopt(segment, action.size(), action.alignment(), false);
            });
            case HANDOFF_FREE -> {
                Block block = pickLive(action.pick(), false);
                if (block != null) {
                    onOtherThread(action.variant(), () -> {
                        checkWhole(block);
                        release(block, false);
                        return null;
                    });
                }
            }
            case DOUBLE_FREE -> doubleFree(action.pick());
            case FLUSH -> heap.flushCurrentThreadCache();
            case RELEASE -> {
                if (action.variant()) {
                    heap.scavengeOnce();
                } else {
                    heap.releaseFreeMemory();
                }
            }
        }
    }

    /** Runs an allocating step; near a limit an {@link OutOfMemoryError} is allowed if the numbers justify it. */
    private void allocating(HeapAction action, Callable<Block> allocation) {
        try {
            allocation.call();
        } catch (OutOfMemoryError e) {
            if (!mayRefuse) {
                throw e;
            }
            checkJustifiedOutOfMemory(e, action.size(), action.alignment());
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void checkJustifiedOutOfMemory(OutOfMemoryError e, long size, long alignment) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("arenas of the")) {
            // The address range is full: legitimate only if every arena is mapped.
            assertEquals(addressSpaceBytes / HeapProbe.ARENA_BYTES, heap.stats().arenas(), () -> "refused with arenas left: " + message);
            count("refused: address range full");
            return;
        }
        count("refused: maxHeapBytes");
        assertTrue(message.contains("maxHeapBytes " + heap.config().maxHeapBytes()) && message.contains(String.valueOf(size)),
                () -> "OutOfMemoryError should name the request and the limit: " + message);
        HeapStats stats = heap.stats();
        // A request can need its pages rounded up, plus alignment slack, plus at most a 10-page span.
        long mostNeeded = size + alignment + 10 * HeapProbe.PAGE_BYTES;
        assertTrue(stats.heldBytes() + mostNeeded > stats.maxHeapBytes(),
                () -> "OutOfMemoryError for " + size + " bytes although held " + stats.heldBytes()
                        + " + request is within the limit " + stats.maxHeapBytes() + ": " + message);
    }

    static void count(String what) {
        COVERAGE.computeIfAbsent(what, k -> new LongAdder()).increment();
    }

    private Block adopt(MemorySegment segment, long size, long alignment, boolean mustBeZero) {
        assertEquals(size, segment.byteSize(), "segment length");
        long address = segment.address();
        assertEquals(0, address % alignment, () -> "address 0x" + Long.toHexString(address) + " not aligned to " + alignment);
        if (mustBeZero) {
            checkZero(segment, "allocate");
        }
        return insert(new Block(nextId++, segment, address, size, false, !insideArenas(address)));
    }

    private Block adoptRaw(long address, long size) {
        assertEquals(0, address % 8, () -> "raw address 0x" + Long.toHexString(address) + " not 8-byte aligned");
        return insert(new Block(nextId++, null, address, size, true, !insideArenas(address)));
    }

    private boolean insideArenas(long address) {
        return Long.compareUnsigned(address - HeapProbe.base(heap), addressSpaceBytes) < 0;
    }

    private Block insert(Block block) {
        assertTrue(HeapProbe.holds(heap, block.address(), block.size()), () -> block + " is not inside the heap");
        assertTrue(heap.usableSize(block.address()) >= block.size(), () -> block + ": usableSize " + heap.usableSize(block.address()));
        Map.Entry<Long, Block> before = byAddress.floorEntry(block.address());
        if (before != null && before.getKey() + Math.max(1, before.getValue().size()) > block.address()) {
            fail(block + " overlaps live " + before.getValue());
        }
        Map.Entry<Long, Block> after = byAddress.ceilingEntry(block.address());
        if (after != null && block.address() + Math.max(1, block.size()) > after.getKey()) {
            fail(block + " overlaps live " + after.getValue());
        }
        write(block);
        live.add(block);
        byAddress.put(block.address(), block);
        allocations++;
        if (block.dedicated()) {
            count("dedicated mappings (> 64 MiB)");
        } else if (block.size() > HeapProbe.MAX_SMALL_SIZE) {
            count("large objects");
        }
        return block;
    }

    private Block pickLive(int pick, boolean segmentOnly) {
        if (live.isEmpty()) {
            return null;
        }
        Block block = live.get(pick % live.size());
        if (segmentOnly && block.raw()) {
            return null;
        }
        return block;
    }

    private void release(Block block, boolean byAddress) {
        if (block.raw() || byAddress) {
            heap.freeAddress(block.address());
        } else {
            heap.free(block.segment());
        }
        forget(block);
        frees++;
    }

    private void forget(Block block) {
        live.remove(block);
        byAddress.remove(block.address());
        if (checked || block.dedicated()) {
            freed.add(block);
            if (freed.size() > FREED_KEPT) {
                freed.removeFirst();
            }
        }
    }

    private void reallocate(Block block, HeapAction action) {
        checkWhole(block);
        long newSize = action.size();
        MemorySegment moved;
        try {
            moved = heap.reallocate(block.segment(), newSize);
        } catch (OutOfMemoryError e) {
            if (!mayRefuse) {
                throw e;
            }
            checkJustifiedOutOfMemory(e, newSize, 8);
            checkWhole(block); // a failed reallocation leaves the block as it was
            return;
        }
        assertEquals(newSize, moved.byteSize(), "reallocated length");
        long kept = Math.min(block.size(), newSize);
        checkPattern(block, moved, kept);
        if (newSize > block.size()) {
            MemorySegment grown = moved.asSlice(block.size());
            long firstNonZero = HeapProbe.firstNonZero(grown.asSlice(0, Math.min(grown.byteSize(), WHOLE_LIMIT)));
            assertEquals(-1, firstNonZero, () -> "reallocate: byte " + firstNonZero + " past the old size is not zero");
        }
        forget(block);
        count(moved.address() != block.address() ? "reallocate: moved" : "reallocate: in place");
        if (moved.address() != block.address()) {
            frees++;
            assertEquals(0, moved.address() % 8, "reallocated address alignment");
            insert(new Block(nextId++, moved, moved.address(), newSize, false, !insideArenas(moved.address())));
        } else {
            // In place: same allocation, new length; the model neither counts an allocation nor a free.
            Block resized = new Block(nextId++, moved, moved.address(), newSize, false, block.dedicated());
            write(resized);
            live.add(resized);
            byAddress.put(resized.address(), resized);
        }
    }

    private void doubleFree(int pick) {
        List<Block> candidates = new ArrayList<>();
        for (Block b : freed) {
            if (!byAddress.containsKey(b.address())) {
                candidates.add(b);
            }
        }
        if (candidates.isEmpty()) {
            return;
        }
        Block block = candidates.get(pick % candidates.size());
        count("double frees caught");
        if (block.raw() || block.segment() == null) {
            assertThrowsExactly(IllegalArgumentException.class, () -> heap.freeAddress(block.address()),
                    () -> "second free of " + block);
        } else {
            assertThrowsExactly(IllegalArgumentException.class, () -> heap.free(block.segment()),
                    () -> "second free of " + block);
        }
    }

    private <T> T onOtherThread(boolean virtual, Callable<T> task) {
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Runnable body = () -> {
            try {
                result[0] = task.call();
            } catch (Throwable t) {
                failure[0] = t;
            }
        };
        count(virtual ? "hand-off: virtual threads" : "hand-off: platform threads");
        Thread thread = virtual ? Thread.ofVirtual().start(body) : Thread.ofPlatform().start(body);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (failure[0] instanceof RuntimeException r) {
            throw r;
        }
        if (failure[0] instanceof Error err) {
            throw err;
        }
        if (failure[0] != null) {
            throw new IllegalStateException(failure[0]);
        }
        @SuppressWarnings("unchecked")
        T value = (T) result[0];
        return value;
    }

    // ---------------------------------------------------------------- contents

    /** The byte ranges of a block the model writes and checks: all of it up to 64 KiB, else three windows. */
    private static long[][] windows(long size) {
        if (size <= WHOLE_LIMIT) {
            return new long[][] {{0, size}};
        }
        long middle = (size / 2) & ~7L;
        return new long[][] {{0, WINDOW}, {middle, WINDOW}, {size - WINDOW, WINDOW}};
    }

    private static void write(Block block) {
        MemorySegment memory = block.memory();
        for (long[] w : windows(block.size())) {
            memory.asSlice(w[0], w[1]).fill(block.fill());
        }
        if (block.size() >= 8) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, block.id());
        }
    }

    /** Checks the header after every step: cheap enough for every live block. */
    private static void checkHeader(Block block) {
        if (block.size() >= 8) {
            long found = block.memory().get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            if (found != block.id()) {
                fail(block + ": header overwritten, holds " + found);
            }
        } else if (block.size() > 0) {
            byte found = block.memory().get(ValueLayout.JAVA_BYTE, 0);
            if (found != block.fill()) {
                fail(block + ": byte 0 overwritten, holds " + found);
            }
        }
    }

    private static void checkWhole(Block block) {
        checkPattern(block, block.memory(), block.size());
    }

    /** Checks that {@code memory} holds {@code block}'s pattern in its windows, up to {@code limit} bytes. */
    private static void checkPattern(Block block, MemorySegment memory, long limit) {
        byte fill = block.fill();
        long repeated = (fill & 0xFFL) * 0x0101010101010101L;
        for (long[] w : windows(block.size())) {
            long from = w[0];
            long to = Math.min(w[0] + w[1], limit);
            long i = from;
            if (block.size() >= 8 && i == 0) {
                if (limit >= 8 && memory.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != block.id()) {
                    fail(block + ": header lost, holds " + memory.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                }
                i = 8;
            }
            for (; i + 8 <= to; i += 8) {
                long found = memory.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
                if (found != repeated) {
                    fail(block + ": bytes at offset " + i + " changed to 0x" + Long.toHexString(found));
                }
            }
            for (; i < to; i++) {
                if (memory.get(ValueLayout.JAVA_BYTE, i) != fill) {
                    fail(block + ": byte at offset " + i + " changed");
                }
            }
        }
    }

    private static void checkZero(MemorySegment segment, String operation) {
        for (long[] w : windows(segment.byteSize())) {
            long first = HeapProbe.firstNonZero(segment.asSlice(w[0], w[1]));
            if (first >= 0) {
                fail(operation + " returned non-zero memory at offset " + (w[0] + first) + " of 0x"
                        + Long.toHexString(segment.address()) + " (" + segment.byteSize() + " bytes)");
            }
        }
    }

    // ---------------------------------------------------------------- checks

    private void checkAgreement() {
        heap.verifyInvariants();
        HeapStats stats = heap.stats();
        assertEquals(live.size(), stats.liveObjects(), () -> "live objects, model vs heap: " + stats);
        assertEquals(allocations, stats.totalAllocations(), () -> "allocations counted: " + stats);
        assertEquals(frees, stats.totalFrees(), () -> "frees counted: " + stats);
        assertEquals(0, stats.doubleFreesDetected(), "no double free was made, none may be detected");
        assertTrue(stats.heldBytes() <= stats.maxHeapBytes(), () -> "held over the limit: " + stats);
        PEAK_HELD.accumulate(stats.heldBytes());
        PEAK_LIVE_BYTES.accumulate(stats.allocatedBytes());
        PEAK_LIVE_OBJECTS.accumulate(stats.liveObjects());
        for (Block block : live) {
            checkHeader(block);
        }
    }

    private void freeEverythingAndCheckEmpty() {
        for (Block block : List.copyOf(live)) {
            checkWhole(block);
            release(block, false);
        }
        checkAgreement();
        HeapProbe.assertEmptyAfterFlush(heap);
    }
}
