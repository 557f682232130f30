package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Several threads allocate random sizes, fill each block with a pattern derived from its address,
 * hand some blocks to other threads, and check the pattern before every free. At checkpoints all
 * threads stop and the live blocks are checked for overlap with one another, then the heap's
 * invariants are verified. A lost, doubled or overlapping block shows up as a broken pattern or an
 * overlap.
 */
class ConcurrentPatternTest {

    private static final int THREADS = 4;
    private static final int ROUNDS = 6;
    private static final int OPS_PER_ROUND = 20_000;

    record Block(long address, long size) {
    }

    @Test
    void patternsSurviveCrossThreadFreesAndBlocksNeverOverlap() throws Exception {
        long seed = Long.getLong("spanheap.seed", System.nanoTime());
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(16L << 26).build())) {
            MemorySegment all = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
            ConcurrentLinkedQueue<Block> handOff = new ConcurrentLinkedQueue<>();
            List<List<Block>> owned = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                owned.add(new ArrayList<>());
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int round = 0; round < ROUNDS; round++) {
                CountDownLatch done = new CountDownLatch(THREADS);
                List<Thread> workers = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    List<Block> mine = owned.get(t);
                    SplittableRandom random = new SplittableRandom(seed * 31 + round * THREADS + t);
                    workers.add(Thread.ofPlatform().start(() -> {
                        try {
                            for (int op = 0; op < OPS_PER_ROUND; op++) {
                                int dice = random.nextInt(100);
                                if (dice < 45 || mine.isEmpty()) {
                                    long size = randomSize(random);
                                    long address = heap.allocateAddress(size);
                                    fill(all, address, size);
                                    if (dice < 10) {
                                        handOff.add(new Block(address, size));
                                    } else {
                                        mine.add(new Block(address, size));
                                    }
                                } else if (dice < 60) {
                                    Block b = handOff.poll();
                                    if (b != null) {
                                        check(all, b);
                                        heap.freeAddress(b.address());
                                    }
                                } else {
                                    int i = random.nextInt(mine.size());
                                    Block b = mine.get(i);
                                    mine.set(i, mine.getLast());
                                    mine.removeLast();
                                    check(all, b);
                                    heap.freeAddress(b.address());
                                }
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        } finally {
                            done.countDown();
                        }
                    }));
                }
                done.await();
                for (Thread worker : workers) {
                    worker.join();
                }
                if (failure.get() != null) {
                    throw new AssertionError("seed " + seed + ", round " + round, failure.get());
                }
                // Quiescent checkpoint: patterns, overlap, invariants. The round's threads have ended.
                TreeMap<Long, Block> byAddress = new TreeMap<>();
                owned.forEach(list -> list.forEach(b -> addWithoutOverlap(byAddress, b, seed)));
                handOff.forEach(b -> addWithoutOverlap(byAddress, b, seed));
                byAddress.values().forEach(b -> check(all, b));
                heap.reclaimDeadCaches();
                heap.verifyInvariants();
                assertEquals(byAddress.size(), heap.stats().liveObjects(), "seed " + seed);
            }
            for (List<Block> list : owned) {
                list.forEach(b -> heap.freeAddress(b.address()));
            }
            handOff.forEach(b -> heap.freeAddress(b.address()));
            heap.flushReachableCaches();
            heap.verifyInvariants();
            HeapStats end = heap.stats();
            assertEquals(0, end.liveObjects());
            assertEquals(0, end.spanBytes(), "every span went back to the page heap");
            assertEquals(end.totalAllocations(), end.totalFrees());
            assertTrue(end.totalAllocations() > ROUNDS * OPS_PER_ROUND, "work was done: " + end.totalAllocations());
        }
    }

    private static long randomSize(SplittableRandom random) {
        int kind = random.nextInt(100);
        if (kind < 70) {
            return random.nextInt(257);
        }
        if (kind < 95) {
            return random.nextInt(32 << 10) + 1;
        }
        return (32 << 10) + random.nextInt(300 << 10);
    }

    private static long word(long address, long offset) {
        return address * 0x9E3779B97F4A7C15L + offset;
    }

    /** Writes the pattern: the first and last 64 bytes, and one long every 4 KiB in between. */
    private static void fill(MemorySegment all, long address, long size) {
        for (long off = 0; off + 8 <= size; off += step(off, size)) {
            all.set(ValueLayout.JAVA_LONG_UNALIGNED, address + off, word(address, off));
        }
    }

    private static void check(MemorySegment all, Block b) {
        for (long off = 0; off + 8 <= b.size(); off += step(off, b.size())) {
            long found = all.get(ValueLayout.JAVA_LONG_UNALIGNED, b.address() + off);
            if (found != word(b.address(), off)) {
                fail("block at 0x" + Long.toHexString(b.address()) + " (" + b.size() + " bytes) damaged at offset " + off);
            }
        }
    }

    private static long step(long off, long size) {
        return off < 64 || off >= size - 72 ? 8 : Math.min(4096, Math.max(8, size - 72 - off));
    }

    private static void addWithoutOverlap(TreeMap<Long, Block> byAddress, Block b, long seed) {
        Map.Entry<Long, Block> below = byAddress.floorEntry(b.address());
        Map.Entry<Long, Block> above = byAddress.ceilingEntry(b.address());
        long end = b.address() + Math.max(1, b.size());
        if (below != null && below.getKey() + Math.max(1, below.getValue().size()) > b.address()) {
            fail("seed " + seed + ": " + b + " overlaps " + below.getValue());
        }
        if (above != null && above.getKey() < end) {
            fail("seed " + seed + ": " + b + " overlaps " + above.getValue());
        }
        byAddress.put(b.address(), b);
    }
}
