package dev.spanheap.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Control;

/**
 * Cross-thread frees, one block at a time: a producer thread allocates blocks and passes each
 * through a queue to a consumer thread, which frees it. Every free is a remote free, the case a
 * per-thread cache design must handle without piling up memory or taking a lock per block. The
 * group's score is allocations plus frees per microsecond.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@State(Scope.Group)
public class ProducerConsumerBenchmark {

    @Param({"64", "1024"})
    public int size;

    private final SpscLongRing queue = new SpscLongRing(1024);
    private RawAllocator allocator;
    private AllocatorState state;

    @Setup
    public void connect(AllocatorState state) {
        this.state = state;
        allocator = state.acquire();
    }

    @TearDown
    public void drain() {
        for (long address = queue.poll(0); address != 0; address = queue.poll(0)) {
            allocator.free(address);
        }
        state.release();
    }

    @Benchmark
    @Group("producerConsumer")
    @GroupThreads(1)
    public long produce(Control control) {
        long address = allocator.allocate(size);
        AllocatorState.touch(address, size);
        int spins = 0;
        while (!queue.offer(address)) {
            if (control.stopMeasurement) {
                allocator.free(address);
                return 0;
            }
            spins = SpscLongRing.backOff(spins);
        }
        return address;
    }

    @Benchmark
    @Group("producerConsumer")
    @GroupThreads(1)
    public long consume(Control control) {
        long address;
        int spins = 0;
        while ((address = queue.poll(0)) == 0) {
            if (control.stopMeasurement) {
                return 0;
            }
            spins = SpscLongRing.backOff(spins);
        }
        allocator.free(address);
        return address;
    }
}
