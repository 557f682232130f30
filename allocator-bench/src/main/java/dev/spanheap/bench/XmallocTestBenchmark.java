package dev.spanheap.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Control;

/**
 * Our Java port of xmalloc-test (Lever and Boreham's multithreaded malloc test, as run by
 * mimalloc-bench), written from its description: allocating threads fill batches of blocks and
 * hand each full batch to freeing threads, which free every block of it; memory always flows one
 * way between threads. mimalloc-bench runs as many thread pairs as cores with 64-byte blocks; on
 * this project's 2 cores that is one allocating and one freeing thread, blocks of 64 bytes,
 * batches of {@value #BATCH}, at most {@value #BATCHES_IN_FLIGHT} batches in flight.
 *
 * <p>One operation is one block allocated or one block freed; the group's score is both together
 * per microsecond. The trial records peak and final RSS in the {@link MemoryLog}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@State(Scope.Group)
public class XmallocTestBenchmark {

    static final int BLOCK_SIZE = 64;
    static final int BATCH = 100;
    static final int BATCHES_IN_FLIGHT = 64;

    /** Batch storage: {@code BATCHES_IN_FLIGHT} slots of {@code BATCH} addresses, passed by slot number. */
    private final long[][] batches = new long[BATCHES_IN_FLIGHT][BATCH];
    /** Full batches, producer to consumer. */
    private final SpscLongRing full = new SpscLongRing(BATCHES_IN_FLIGHT);
    /** Emptied batch slots, consumer back to producer. */
    private final SpscLongRing empty = new SpscLongRing(BATCHES_IN_FLIGHT);
    private RawAllocator allocator;
    private AllocatorState state;
    private final MemoryLog memory = new MemoryLog();

    @Setup
    public void connect(AllocatorState state) {
        this.state = state;
        allocator = state.acquire();
        for (int slot = 0; slot < BATCHES_IN_FLIGHT; slot++) {
            empty.offer(slot);
        }
        memory.start();
    }

    @TearDown
    public void drain() {
        long heldBefore = allocator.heldBytes();
        long residentBefore = allocator.residentBytes();
        long live = (long) full.size() * BATCH * BLOCK_SIZE;
        for (long slot = full.poll(-1); slot >= 0; slot = full.poll(-1)) {
            for (long address : batches[(int) slot]) {
                allocator.free(address);
            }
        }
        memory.finish("xmalloc-test", allocator, 2, live, heldBefore, residentBefore, allocator.heldBytes());
        state.release();
    }

    @Benchmark
    @Group("xmallocTest")
    @GroupThreads(1)
    @OperationsPerInvocation(BATCH)
    public long allocateBatch(Control control) {
        long slot;
        int spins = 0;
        while ((slot = empty.poll(-1)) < 0) {
            if (control.stopMeasurement) {
                return 0;
            }
            spins = SpscLongRing.backOff(spins);
        }
        long[] batch = batches[(int) slot];
        for (int i = 0; i < BATCH; i++) {
            long address = allocator.allocate(BLOCK_SIZE);
            AllocatorState.touch(address, i);
            batch[i] = address;
        }
        full.offer(slot);
        return batch[0];
    }

    @Benchmark
    @Group("xmallocTest")
    @GroupThreads(1)
    @OperationsPerInvocation(BATCH)
    public long freeBatch(Control control) {
        long slot;
        int spins = 0;
        while ((slot = full.poll(-1)) < 0) {
            if (control.stopMeasurement) {
                return 0;
            }
            spins = SpscLongRing.backOff(spins);
        }
        long[] batch = batches[(int) slot];
        for (int i = 0; i < BATCH; i++) {
            allocator.free(batch[i]);
        }
        empty.offer(slot);
        return batch[0];
    }
}
