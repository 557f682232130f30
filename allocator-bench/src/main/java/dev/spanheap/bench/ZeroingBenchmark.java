package dev.spanheap.bench;

import dev.spanheap.internal.CoreProbe;
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
 * How the heap and the stacks should clear a block: {@code MemorySegment.fill}, libc's memset
 * through the heap's critical downcall ({@link CoreProbe#memset}) and the heap's own clear
 * ({@link CoreProbe#clear}: stores up to 32 bytes, memset above), size by size, in one run.
 * {@code zeroClear} against {@code libcMemset} at 8 to 32 bytes is the stores-against-memset
 * crossover. The size is a field, not a constant, as it is when a stack frame pops.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class ZeroingBenchmark {

    @Param({"8", "16", "24", "32", "40", "64", "128", "1024", "4096"})
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

    /** What the heap and the stacks do: stores up to 32 bytes, memset above. */
    @Benchmark
    public MemorySegment zeroClear() {
        CoreProbe.clear(block.address(), size);
        return block;
    }

    @Benchmark
    public MemorySegment libcMemset() {
        CoreProbe.memset(block.address(), size);
        return block;
    }
}
