package dev.spanheap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A multi-threaded workload in the style of the larson and xmalloc allocator benchmarks, used by
 * the stress and soak tests: threads allocate blocks, write a pattern that names the block, and
 * hand them to other threads (through a shared array of slots or a queue), which check the pattern
 * and free them. Any thread may free any block, so every cross-thread path of the heap is used.
 *
 * <p>Failures inside worker threads are collected in {@link #failures} (the first one stops the
 * run); the test thread asserts on them. Counters are {@link LongAdder}s or atomics: they are the
 * test's bookkeeping, not the heap's.
 */
final class ExchangeWorkload {

    /** A block in flight: {@code segment} is null for one from {@code allocateAddress}. */
    record Block(long token, long address, long size, MemorySegment segment) {
    }

    private static final long CHECK_WHOLE_LIMIT = 4096;

    final SpanHeap heap;
    final AtomicReferenceArray<Block> slots;
    final LongAdder operations = new LongAdder();
    final LongAdder verified = new LongAdder();
    final LongAdder allocated = new LongAdder();
    final AtomicLong liveBytes = new AtomicLong();
    final AtomicLong liveBlocks = new AtomicLong();
    final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final AtomicLong tokens = new AtomicLong(1);
    private final long maxSize;
    volatile boolean stop;

    ExchangeWorkload(SpanHeap heap, int slotCount, long maxSize) {
        this.heap = heap;
        this.slots = new AtomicReferenceArray<>(slotCount);
        this.maxSize = maxSize;
    }

    /** Sizes like a server's: mostly small, some up to 32 KiB, a few large objects. */
    long drawSize(SplittableRandom random) {
        int roll = random.nextInt(100);
        long size;
        if (roll < 70) {
            size = random.nextLong(1, 257);
        } else if (roll < 90) {
            size = random.nextLong(257, 4097);
        } else if (roll < 98) {
            size = random.nextLong(4097, 32 * 1024 + 2);
        } else {
            size = random.nextLong(32 * 1024 + 2, 256 * 1024);
        }
        return Math.min(size, maxSize);
    }

    Block allocate(SplittableRandom random) {
        long size = drawSize(random);
        long token = tokens.getAndIncrement();
        Block block;
        if (random.nextInt(4) == 0) {
            long address = heap.allocateAddress(size);
            block = new Block(token, address, size, null);
        } else {
            MemorySegment segment = random.nextBoolean() ? heap.allocate(size, 8) : heap.allocateUninitialized(size, 8);
            block = new Block(token, segment.address(), size, segment);
        }
        write(block);
        allocated.increment();
        liveBytes.addAndGet(size);
        liveBlocks.incrementAndGet();
        return block;
    }

    void verifyAndFree(Block block) {
        check(block);
        verified.increment();
        liveBytes.addAndGet(-block.size());
        liveBlocks.decrementAndGet();
        if (block.segment() == null || (block.token() & 1) == 0) {
            heap.freeAddress(block.address());
        } else {
            heap.free(block.segment());
        }
    }

    /** One larson step: put a fresh block in a random slot, and check and free what was there. */
    void exchange(SplittableRandom random) {
        Block fresh = allocate(random);
        Block old = slots.getAndSet(random.nextInt(slots.length()), fresh);
        if (old != null) {
            verifyAndFree(old);
        }
        operations.increment();
    }

    /** Empties every slot, checking and freeing its block. */
    void drain() {
        for (int i = 0; i < slots.length(); i++) {
            Block old = slots.getAndSet(i, null);
            if (old != null) {
                verifyAndFree(old);
            }
        }
    }

    /** Runs {@code body} until it returns or the workload stops; records a failure and stops everyone. */
    Runnable guarded(Runnable body) {
        return () -> {
            try {
                body.run();
            } catch (Throwable t) {
                failures.add(t);
                stop = true;
            }
        };
    }

    private static MemorySegment memory(Block block) {
        return block.segment() != null ? block.segment() : MemorySegment.ofAddress(block.address()).reinterpret(block.size());
    }

    private static byte fill(long token) {
        return (byte) (token * 0x9E3779B1L >>> 24 | 1);
    }

    private static void write(Block block) {
        MemorySegment memory = memory(block);
        long size = block.size();
        byte fill = fill(block.token());
        if (size <= CHECK_WHOLE_LIMIT) {
            memory.fill(fill);
        } else {
            memory.asSlice(0, 256).fill(fill);
            memory.asSlice(size - 256, 256).fill(fill);
        }
        if (size >= 8) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, block.token());
        }
        if (size >= 16) {
            memory.set(ValueLayout.JAVA_LONG_UNALIGNED, size - 8, ~block.token());
        }
    }

    private static void check(Block block) {
        MemorySegment memory = memory(block);
        long size = block.size();
        byte fill = fill(block.token());
        if (size >= 8 && memory.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != block.token()) {
            throw new AssertionError("block " + block + " lost its header: " + memory.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
        }
        if (size >= 16 && memory.get(ValueLayout.JAVA_LONG_UNALIGNED, size - 8) != ~block.token()) {
            throw new AssertionError("block " + block + " lost its trailer");
        }
        long from = size >= 8 ? 8 : 0;
        long to = size >= 16 ? size - 8 : size;
        if (size > CHECK_WHOLE_LIMIT) {
            checkFill(block, memory, from, 256, fill);
            checkFill(block, memory, size - 256, to, fill);
        } else {
            checkFill(block, memory, from, to, fill);
        }
    }

    private static void checkFill(Block block, MemorySegment memory, long from, long to, byte fill) {
        for (long i = from; i < to; i++) {
            if (memory.get(ValueLayout.JAVA_BYTE, i) != fill) {
                throw new AssertionError("block " + block + ": byte " + i + " changed while in flight");
            }
        }
    }
}
