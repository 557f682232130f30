package dev.spanheap.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Allocates a batch of {@value #BATCH} blocks, then frees them all in LIFO, FIFO or random order;
 * the score is per allocate+free pair. A pair benchmark always reuses the same hot slot; a batch
 * walks through whole spans and makes the allocator refill and drain its caches, and the free
 * order decides whether freed slots come back in the order a free list likes (LIFO) or scattered
 * over many spans (random).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@State(Scope.Thread)
public class BatchFreeOrderBenchmark {

    static final int BATCH = 1000;

    @Param({"64", "4096"})
    public int size;

    @Param({"LIFO", "FIFO", "RANDOM"})
    public String order;

    private final long[] blocks = new long[BATCH];
    private int[] freeOrder;

    @Setup
    public void prepare() {
        freeOrder = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            freeOrder[i] = switch (order) {
                case "LIFO" -> BATCH - 1 - i;
                case "FIFO" -> i;
                case "RANDOM" -> i;
                default -> throw new IllegalArgumentException("order must be LIFO, FIFO or RANDOM, was " + order);
            };
        }
        if (order.equals("RANDOM")) {
            SplittableRandom random = new SplittableRandom(42);
            for (int i = BATCH - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int swap = freeOrder[i];
                freeOrder[i] = freeOrder[j];
                freeOrder[j] = swap;
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long batch(AllocatorState state) {
        RawAllocator allocator = state.raw;
        long[] blocks = this.blocks;
        int[] freeOrder = this.freeOrder;
        long size = this.size;
        for (int i = 0; i < BATCH; i++) {
            long address = allocator.allocate(size);
            AllocatorState.touch(address, i);
            blocks[i] = address;
        }
        long checksum = 0;
        for (int i = 0; i < BATCH; i++) {
            long address = blocks[freeOrder[i]];
            checksum += address;
            allocator.free(address);
        }
        return checksum;
    }
}
