package dev.spanheap.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * A steady state of {@value #LIVE_BLOCKS} live blocks per thread with sizes from
 * {@link SizeDistribution}: each operation frees a random live block and allocates a new one in
 * its place (and writes to it). Run with one and with two threads (each with its own blocks) to
 * show how throughput scales; the target is at least 1.7 times the one-thread throughput with two.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class MixedSizesBenchmark {

    static final int LIVE_BLOCKS = 4096;

    /** One thread's live blocks and its position in the size and index tables. */
    @State(Scope.Thread)
    public static class Blocks {
        long[] addresses;
        int[] sizes;
        int[] victims;
        int cursor;
        RawAllocator allocator;
        AllocatorState state;

        @Setup
        public void fill(AllocatorState state, ThreadParams thread) {
            this.state = state;
            allocator = state.acquire();
            sizes = SizeDistribution.table(1000 + thread.getThreadIndex());
            victims = SizeDistribution.indexes(2000 + thread.getThreadIndex(), LIVE_BLOCKS);
            addresses = new long[LIVE_BLOCKS];
            for (int i = 0; i < LIVE_BLOCKS; i++) {
                addresses[i] = allocator.allocate(sizes[i]);
            }
        }

        @TearDown
        public void drain() {
            for (long address : addresses) {
                allocator.free(address);
            }
            state.release();
        }
    }

    private static long replaceOne(Blocks blocks) {
        int step = blocks.cursor++ & SizeDistribution.TABLE_MASK;
        int victim = blocks.victims[step];
        RawAllocator allocator = blocks.allocator;
        allocator.free(blocks.addresses[victim]);
        long address = allocator.allocate(blocks.sizes[step]);
        AllocatorState.touch(address, step);
        blocks.addresses[victim] = address;
        return address;
    }

    @Benchmark
    @Threads(1)
    public long oneThread(Blocks blocks) {
        return replaceOne(blocks);
    }

    @Benchmark
    @Threads(2)
    public long twoThreads(Blocks blocks) {
        return replaceOne(blocks);
    }
}
