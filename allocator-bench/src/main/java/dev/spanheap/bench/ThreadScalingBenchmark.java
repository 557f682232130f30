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
 * Throughput against thread count on a mix that reaches 2 MiB ({@link SizeDistribution#tableTo2MiB},
 * 5 % of requests above 32 KiB, so spans and large objects leave the thread cache often): each
 * thread keeps {@value #LIVE_BLOCKS} live blocks and each operation frees a random one and
 * allocates a replacement (and writes to it). 1 and 2 threads show scaling on this 2-core machine;
 * 4 and 8 threads oversubscribe it, where a lock held by a preempted thread stalls the others.
 * The targets: 2 threads at least 1.8 times 1 thread, 8 threads at least 0.9 times 2 threads.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class ThreadScalingBenchmark {

    static final int LIVE_BLOCKS = 2048;

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
            sizes = SizeDistribution.tableTo2MiB(3000 + thread.getThreadIndex());
            victims = SizeDistribution.indexes(4000 + thread.getThreadIndex(), LIVE_BLOCKS);
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

    static long replaceOne(Blocks blocks) {
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
    public long threads1(Blocks blocks) {
        return replaceOne(blocks);
    }

    @Benchmark
    @Threads(2)
    public long threads2(Blocks blocks) {
        return replaceOne(blocks);
    }

    @Benchmark
    @Threads(4)
    public long threads4(Blocks blocks) {
        return replaceOne(blocks);
    }

    @Benchmark
    @Threads(8)
    public long threads8(Blocks blocks) {
        return replaceOne(blocks);
    }
}
