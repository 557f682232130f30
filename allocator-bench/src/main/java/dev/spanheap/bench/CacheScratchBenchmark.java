package dev.spanheap.bench;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Our Java port of cache-scratch (from the Hoard benchmarks, as run by mimalloc-bench), written
 * from its description: it tests passive false sharing. One thread allocates a small block per
 * worker and hands one to each; each worker frees the block it was given, then repeatedly
 * allocates a small block, writes every byte of it many times, and frees it. An allocator that
 * hands a worker a slot on the cache line of a slot another thread writes makes both workers'
 * writes bounce that line between cores, and the two-thread throughput collapses.
 *
 * <p>Parameters (mimalloc-bench: tiny objects, 1000 iterations, millions of writes,
 * threads = cores): here 1 or 2 threads, blocks of {@value #BLOCK_SIZE} bytes and
 * {@value #WRITES_PER_BYTE} writes per byte per allocation. One operation is one allocation, its
 * writes and its free. Scaling from one to two threads should be close to 2.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class CacheScratchBenchmark {

    static final int BLOCK_SIZE = 8;
    static final int WRITES_PER_BYTE = 50;

    private static final VarHandle BYTE = ValueLayout.JAVA_BYTE.varHandle();

    /** The blocks allocated by one thread for all workers, before they start. */
    @State(Scope.Benchmark)
    public static class Handout {
        AtomicLongArray blocks;

        @Setup
        public void allocate(AllocatorState state, BenchmarkParams params) {
            blocks = new AtomicLongArray(params.getThreads());
            for (int i = 0; i < blocks.length(); i++) {
                blocks.set(i, state.raw.allocate(BLOCK_SIZE));
            }
        }
    }

    @State(Scope.Thread)
    public static class Worker {
        RawAllocator allocator;

        /** Frees the block handed to this worker: its slot now sits next to the other workers'. */
        @Setup
        public void start(AllocatorState state, Handout handout, ThreadParams thread) {
            allocator = state.raw;
            allocator.free(handout.blocks.getAndSet(thread.getThreadIndex(), 0));
        }
    }

    private static long scratch(Worker worker) {
        long address = worker.allocator.allocate(BLOCK_SIZE);
        for (int write = 0; write < WRITES_PER_BYTE; write++) {
            for (int i = 0; i < BLOCK_SIZE; i++) {
                byte value = (byte) BYTE.getOpaque(AllocatorState.ALL_MEMORY, address + i);
                BYTE.setOpaque(AllocatorState.ALL_MEMORY, address + i, (byte) (value + 1));
            }
        }
        worker.allocator.free(address);
        return address;
    }

    @Benchmark
    @Threads(1)
    public long oneThread(Worker worker) {
        return scratch(worker);
    }

    @Benchmark
    @Threads(2)
    public long twoThreads(Worker worker) {
        return scratch(worker);
    }
}
