package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
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
 * How the heap and the stacks should clear a block ({@link Zero}): {@code MemorySegment.fill},
 * our own 8-byte stores ({@link Zero#withStores}) and libc's memset through a critical downcall
 * ({@link OsMemory#zero}), size by size, in one run. The crossover sets {@link Zero#STORES_UP_TO}.
 * The size is a field, not a constant, as it is when a stack frame pops.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class ZeroingBenchmark {

    @Param({"8", "24", "32", "40", "64", "128", "256", "1024", "4096", "32768"})
    public long size;

    private Arena arena;
    private MemorySegment block;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofConfined();
        block = arena.allocate(size, 64);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment segmentFill() {
        return block.fill((byte) 0);
    }

    @Benchmark
    public MemorySegment stores() {
        if (size > Zero.STORES_UP_TO) {
            throw new IllegalStateException("withStores serves blocks up to " + Zero.STORES_UP_TO + " bytes");
        }
        Zero.withStores(block.address(), size);
        return block;
    }

    @Benchmark
    public MemorySegment libcMemset() {
        OsMemory.zero(block.address(), size);
        return block;
    }
}
