package dev.spanheap.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
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
 * Our Java port of larson (Larson and Krishnan's server simulation, as run by mimalloc-bench),
 * written from its published description: each worker owns a set of blocks of random sizes and
 * repeatedly frees a random one and allocates a replacement of a new random size; after a round
 * the worker's set passes to another worker, so blocks allocated by one thread are freed by
 * another, as in a server whose requests move between threads.
 *
 * <p>Parameters (mimalloc-bench: sizes 8 to 1000 bytes, 5000 blocks per thread, as many threads
 * as cores): here 1 or 2 threads (this machine has 2 cores), {@value #BLOCKS_PER_SET} blocks per
 * set, sizes uniform in [{@value #MIN_SIZE}, {@value #MAX_SIZE}], a round of
 * {@value #ROUND_LENGTH} replacements. The original starts a new thread per round to hand the
 * blocks over; a JMH benchmark has a fixed set of threads, so here sets are exchanged through a
 * shared pool of {@value #POOL_SETS} parked sets instead. One operation is one free plus one
 * allocation. The trial records peak and final RSS in the {@link MemoryLog}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class LarsonBenchmark {

    static final int MIN_SIZE = 8;
    static final int MAX_SIZE = 1000;
    static final int BLOCKS_PER_SET = 5000;
    static final int ROUND_LENGTH = 5000;
    static final int POOL_SETS = 2;

    /** A set of live blocks and their sizes; owned by one worker at a time. */
    static final class BlockSet {
        final long[] addresses = new long[BLOCKS_PER_SET];
        final int[] sizes = new int[BLOCKS_PER_SET];
    }

    /** The shared pool of parked sets, and the memory record of the trial. */
    @State(Scope.Benchmark)
    public static class Pool {
        AtomicReferenceArray<BlockSet> parked;
        /**
         * The set each worker holds, by thread index, updated at each exchange: JMH may tear this
         * state down before the workers' own teardowns run, so the trial finds their sets here.
         */
        final AtomicReferenceArray<BlockSet> held = new AtomicReferenceArray<>(64);
        RawAllocator allocator;
        AllocatorState state;
        int threads;
        final MemoryLog memory = new MemoryLog();

        @Setup(Level.Trial)
        public void fill(AllocatorState state, BenchmarkParams params) {
            this.state = state;
            allocator = state.acquire();
            threads = params.getThreads();
            memory.start();
            parked = new AtomicReferenceArray<>(POOL_SETS);
            SplittableRandom random = new SplittableRandom(4141);
            for (int i = 0; i < POOL_SETS; i++) {
                parked.set(i, newSet(allocator, random));
            }
        }

        @TearDown(Level.Trial)
        public void drain() {
            long live = 0;
            long heldBefore = allocator.heldBytes();
            long residentBefore = allocator.residentBytes();
            for (int i = 0; i < held.length(); i++) {
                live += liveBytes(held.get(i));
            }
            for (int i = 0; i < POOL_SETS; i++) {
                live += liveBytes(parked.get(i));
            }
            for (int i = 0; i < held.length(); i++) {
                freeSet(allocator, held.get(i));
            }
            for (int i = 0; i < POOL_SETS; i++) {
                freeSet(allocator, parked.get(i));
            }
            memory.finish("larson", allocator, threads, live, heldBefore, residentBefore, allocator.heldBytes());
            state.release();
        }
    }

    /** One worker: the set it holds and its random stream. */
    @State(Scope.Thread)
    public static class Worker {
        BlockSet set;
        SplittableRandom random;
        int stepsLeftInRound;
        RawAllocator allocator;
        Pool pool;
        int index;

        @Setup(Level.Trial)
        public void start(Pool pool, ThreadParams thread) {
            this.pool = pool;
            allocator = pool.allocator;
            index = thread.getThreadIndex();
            random = new SplittableRandom(4141L * (index + 1));
            set = newSet(allocator, random);
            pool.held.set(index, set);
            stepsLeftInRound = ROUND_LENGTH;
        }
    }

    static BlockSet newSet(RawAllocator allocator, SplittableRandom random) {
        BlockSet set = new BlockSet();
        for (int i = 0; i < BLOCKS_PER_SET; i++) {
            int size = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
            set.sizes[i] = size;
            set.addresses[i] = allocator.allocate(size);
        }
        return set;
    }

    static long liveBytes(BlockSet set) {
        long bytes = 0;
        if (set != null) {
            for (int size : set.sizes) {
                bytes += size;
            }
        }
        return bytes;
    }

    static void freeSet(RawAllocator allocator, BlockSet set) {
        if (set != null) {
            for (long address : set.addresses) {
                allocator.free(address);
            }
        }
    }

    private static long replaceOne(Worker worker) {
        SplittableRandom random = worker.random;
        BlockSet set = worker.set;
        int victim = random.nextInt(BLOCKS_PER_SET);
        int size = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
        worker.allocator.free(set.addresses[victim]);
        long address = worker.allocator.allocate(size);
        AllocatorState.touch(address, size);
        set.addresses[victim] = address;
        set.sizes[victim] = size;
        if (--worker.stepsLeftInRound == 0) {
            worker.stepsLeftInRound = ROUND_LENGTH;
            BlockSet next = worker.pool.parked.getAndSet(random.nextInt(POOL_SETS), set);
            worker.set = next;
            worker.pool.held.set(worker.index, next);
        }
        return address;
    }

    @Benchmark
    @Threads(1)
    public long oneThread(Worker worker) {
        return replaceOne(worker);
    }

    @Benchmark
    @Threads(2)
    public long twoThreads(Worker worker) {
        return replaceOne(worker);
    }
}
