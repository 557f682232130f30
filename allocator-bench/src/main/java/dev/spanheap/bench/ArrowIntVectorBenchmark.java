package dev.spanheap.bench;

import dev.spanheap.SpanHeap;
import dev.spanheap.arrow.SpanHeapAllocationManager;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.netty.NettyAllocationManager;
import org.apache.arrow.memory.unsafe.UnsafeAllocationManager;
import org.apache.arrow.vector.IntVector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The life of a short Arrow column: allocate an {@link IntVector} of {@code values} ints, set
 * every value, and close it, with the buffers from SpanHeap's allocation manager, Arrow's Unsafe
 * manager and its Netty manager. 1 K values is a small batch (4 KiB of data, 128 B of validity),
 * 64 K a large one (256 KiB). Arrow's own accounting runs in all three.
 *
 * <p>ArrowBuf reads and writes through {@code sun.misc.Unsafe}, so the forks open
 * {@code java.nio} and allow Unsafe memory access, as any Arrow application must.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g",
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class ArrowIntVectorBenchmark {

    @Param({"spanheap", "unsafe", "netty"})
    public String manager;

    @Param({"1024", "65536"})
    public int values;

    private SpanHeap heap;
    private RootAllocator allocator;

    @Setup(Level.Trial)
    public void open() {
        // Initialize Arrow's allocator classes first: its default configuration looks up a default
        // manager, and reaching UnsafeAllocationManager.FACTORY before that closes a class
        // initialization cycle in which the default factory is still null.
        RootAllocator.configBuilder();
        AllocationManager.Factory factory = switch (manager) {
            case "spanheap" -> SpanHeapAllocationManager.factory(heap = SpanHeap.create());
            case "unsafe" -> UnsafeAllocationManager.FACTORY;
            case "netty" -> NettyAllocationManager.FACTORY;
            default -> throw new IllegalArgumentException("unknown manager " + manager + "; expected spanheap, unsafe or netty");
        };
        allocator = new RootAllocator(RootAllocator.configBuilder().allocationManagerFactory(factory).build());
    }

    @TearDown(Level.Trial)
    public void close() {
        allocator.close();
        if (heap != null) {
            heap.close();
        }
    }

    @Benchmark
    public long allocateFillClose() {
        try (IntVector vector = new IntVector("values", allocator)) {
            vector.allocateNew(values);
            for (int i = 0; i < values; i++) {
                vector.set(i, i);
            }
            vector.setValueCount(values);
            return vector.getDataBufferAddress() + vector.get(values - 1);
        }
    }
}
