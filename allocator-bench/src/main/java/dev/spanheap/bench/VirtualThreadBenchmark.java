package dev.spanheap.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The {@link ThreadScalingBenchmark} mix run by 1000 virtual threads against the same work on 2
 * platform threads: {@value #TOTAL_LIVE_BLOCKS} live blocks and {@value #OPERATIONS} replacements
 * per invocation in both, split evenly over the threads (each thread allocates its share of the
 * live set, replaces random blocks of it, and frees it). Virtual threads have no thread cache of
 * their own in SpanHeap, so this is what a server on virtual threads sees. The target: the
 * virtual threads' throughput at least 0.8 times the platform threads'.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@Threads(1)
public class VirtualThreadBenchmark {

    static final int VIRTUAL_THREADS = 1000;
    static final int PLATFORM_THREADS = 2;
    static final int TOTAL_LIVE_BLOCKS = 16_000;
    static final int OPERATIONS = 1_000_000;

    /** The size table, drawn once per fork; each thread starts reading it at its own offset. */
    private static final int[] SIZES = SizeDistribution.tableTo2MiB(8000);

    /** One thread's share: allocate its live blocks, replace random ones, free them all. */
    private static void work(RawAllocator allocator, int seed, int liveBlocks, int operations) {
        int offset = seed * 7919;
        long[] addresses = new long[liveBlocks];
        for (int i = 0; i < liveBlocks; i++) {
            addresses[i] = allocator.allocate(SIZES[(offset + i) & SizeDistribution.TABLE_MASK]);
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int op = 0; op < operations; op++) {
            int victim = random.nextInt(liveBlocks);
            allocator.free(addresses[victim]);
            long address = allocator.allocate(SIZES[(offset + liveBlocks + op) & SizeDistribution.TABLE_MASK]);
            AllocatorState.touch(address, op);
            addresses[victim] = address;
        }
        for (long address : addresses) {
            allocator.free(address);
        }
    }

    private static void runOn(Thread.Builder builder, int threads, AllocatorState state) throws InterruptedException {
        List<Thread> started = new ArrayList<>(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 0; t < threads; t++) {
            int seed = 8000 + t;
            started.add(builder.start(() -> {
                try {
                    work(state.raw, seed, TOTAL_LIVE_BLOCKS / threads, OPERATIONS / threads);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        for (Thread thread : started) {
            thread.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a worker failed, so the invocation did not do its work", failure.get());
        }
    }

    @Benchmark
    @OperationsPerInvocation(OPERATIONS)
    public void virtualThreads(AllocatorState state) throws InterruptedException {
        runOn(Thread.ofVirtual(), VIRTUAL_THREADS, state);
    }

    @Benchmark
    @OperationsPerInvocation(OPERATIONS)
    public void platformThreads(AllocatorState state) throws InterruptedException {
        runOn(Thread.ofPlatform(), PLATFORM_THREADS, state);
    }
}
