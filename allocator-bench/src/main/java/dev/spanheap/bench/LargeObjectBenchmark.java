package dev.spanheap.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Large objects only, the requests that leave every thread cache for the page heap:
 * <ul>
 * <li>{@code pair*}: allocate a block of 64 KiB to 4 MiB (uniform), write to it, free it;</li>
 * <li>{@code window*}: each thread keeps a window of {@value #WINDOW} live blocks of 40 KiB to
 *     4 MiB (uniform) and replaces a random one per operation, so frees and allocations of
 *     different sizes interleave and free runs split and merge.</li>
 * </ul>
 * One and two threads (each with its own blocks). The targets: one thread no slower than glibc,
 * two threads at least 1.8 times one, no Java garbage per operation ({@code -prof gc}), and on the
 * window a peak RSS growth of at most twice the live bytes (recorded in the {@link MemoryLog}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class LargeObjectBenchmark {

    static final int PAIR_MIN = 64 << 10;
    static final int WINDOW_MIN = 40 << 10;
    static final int MAX = 4 << 20;
    static final int WINDOW = 8;

    /** One thread's window of live blocks, and its size and index tables. */
    @State(Scope.Thread)
    public static class Window {
        final long[] addresses = new long[WINDOW];
        final int[] liveSizes = new int[WINDOW];
        int[] pairSizes;
        int[] windowSizes;
        int[] victims;
        int cursor;
        RawAllocator allocator;
        AllocatorState state;
        Trial trial;

        @Setup
        public void fill(AllocatorState state, Trial trial, ThreadParams thread) {
            this.state = state;
            this.trial = trial;
            allocator = state.acquire();
            pairSizes = SizeDistribution.uniform(5000 + thread.getThreadIndex(), PAIR_MIN, MAX);
            windowSizes = SizeDistribution.uniform(6000 + thread.getThreadIndex(), WINDOW_MIN, MAX);
            victims = SizeDistribution.indexes(7000 + thread.getThreadIndex(), WINDOW);
            for (int i = 0; i < WINDOW; i++) {
                liveSizes[i] = windowSizes[i];
                addresses[i] = allocator.allocate(liveSizes[i]);
            }
        }

        @TearDown
        public void drain() {
            long live = 0;
            for (int size : liveSizes) {
                live += size;
            }
            trial.threadDone(allocator, live);
            for (long address : addresses) {
                allocator.free(address);
            }
            trial.threadFreed(allocator);
            state.release();
        }
    }

    /** The memory record of the trial: peak RSS against the live bytes of every thread's window. */
    @State(Scope.Benchmark)
    public static class Trial {
        final MemoryLog memory = new MemoryLog();
        String workload;
        int threads;
        long liveBytes;
        long heldBeforeFree = -1;
        long residentBeforeFree = -1;
        int pending;

        @Setup(Level.Trial)
        public void start(BenchmarkParams params) {
            workload = "LargeObjectBenchmark." + params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
            threads = params.getThreads();
            pending = threads;
            memory.start();
        }

        synchronized void threadDone(RawAllocator allocator, long live) {
            liveBytes += live;
            if (--pending == 0) {
                heldBeforeFree = allocator.heldBytes();
                residentBeforeFree = allocator.residentBytes();
            }
        }

        synchronized void threadFreed(RawAllocator allocator) {
            if (pending == 0 && workload.contains("window")) {
                pending = -1;
                memory.finish(workload, allocator, threads, liveBytes, heldBeforeFree, residentBeforeFree, allocator.heldBytes());
            }
        }
    }

    private static long pair(Window window) {
        int step = window.cursor++ & SizeDistribution.TABLE_MASK;
        long address = window.allocator.allocate(window.pairSizes[step]);
        AllocatorState.touch(address, step);
        window.allocator.free(address);
        return address;
    }

    private static long replace(Window window) {
        int step = window.cursor++ & SizeDistribution.TABLE_MASK;
        int victim = window.victims[step];
        RawAllocator allocator = window.allocator;
        allocator.free(window.addresses[victim]);
        int size = window.windowSizes[step];
        long address = allocator.allocate(size);
        AllocatorState.touch(address, step);
        window.addresses[victim] = address;
        window.liveSizes[victim] = size;
        return address;
    }

    @Benchmark
    @Threads(1)
    public long pairOneThread(Window window) {
        return pair(window);
    }

    @Benchmark
    @Threads(2)
    public long pairTwoThreads(Window window) {
        return pair(window);
    }

    @Benchmark
    @Threads(1)
    public long windowOneThread(Window window) {
        return replace(window);
    }

    @Benchmark
    @Threads(2)
    public long windowTwoThreads(Window window) {
        return replace(window);
    }
}
