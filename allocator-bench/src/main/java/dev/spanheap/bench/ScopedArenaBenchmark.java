package dev.spanheap.bench;

import dev.spanheap.SpanHeap;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The scoped-allocation pattern of FFM code ({@code try (Arena a = ...) { allocate; call; }}),
 * with {@link SpanHeap#newConfinedArena()} against {@link Arena#ofConfined()} and
 * {@link Arena#ofShared()} in the same run. Why it matters: every native call that passes a string,
 * a struct or an out parameter pays this open + allocate + close, usually more than the call.
 *
 * <p>Cases: one allocation of 64 B and of 4 KiB; five allocations of mixed sizes; a realistic
 * call ({@code strlen} of a string copied into the arena). The {@code floor*} cases take the
 * stack arena apart: a bare JDK confined arena opened and closed (the scope every frame must
 * borrow); the same plus one segment reinterpreted into its scope (three ways: a window, a window
 * and a slice, the address alone); a 64-byte clear; the cost of a GC write barrier; and a stack
 * arena opened and closed with no allocation.
 *
 * <p>Run: {@code java -jar allocator-bench/target/benchmarks.jar ScopedArena -f 1 -wi 3 -i 5}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class ScopedArenaBenchmark {

    /** Mixed sizes of the five-allocation case: a small struct, an int out-parameter, a path, a buffer, a name. */
    private static final long[] MIXED = {24, 4, 256, 1024, 40};
    private static final String TEXT = "/usr/lib/jvm/temurin-25-jdk-amd64/lib/libjava.so";

    private SpanHeap heap;
    private MethodHandle strlen;
    private long base;
    private MemorySegment raw;

    @Setup(Level.Trial)
    public void setUp() {
        heap = SpanHeap.create();
        Linker linker = Linker.nativeLinker();
        strlen = linker.downcallHandle(linker.defaultLookup().find("strlen").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        try (Arena warm = heap.newConfinedArena()) {
            base = warm.allocate(8).address();
        }
        raw = MemorySegment.ofAddress(base).reinterpret(8192);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
    }

    // ---------------------------------------------------------------- one allocation of 64 B

    @Benchmark
    public void stack64(Blackhole bh) {
        try (Arena arena = heap.newConfinedArena()) {
            bh.consume(arena.allocate(64));
        }
    }

    @Benchmark
    public void jdkConfined64(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            bh.consume(arena.allocate(64));
        }
    }

    @Benchmark
    public void jdkShared64(Blackhole bh) {
        try (Arena arena = Arena.ofShared()) {
            bh.consume(arena.allocate(64));
        }
    }

    // ---------------------------------------------------------------- one allocation of 4 KiB

    @Benchmark
    public void stack4k(Blackhole bh) {
        try (Arena arena = heap.newConfinedArena()) {
            bh.consume(arena.allocate(4096));
        }
    }

    @Benchmark
    public void jdkConfined4k(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            bh.consume(arena.allocate(4096));
        }
    }

    @Benchmark
    public void jdkShared4k(Blackhole bh) {
        try (Arena arena = Arena.ofShared()) {
            bh.consume(arena.allocate(4096));
        }
    }

    // ---------------------------------------------------------------- five allocations, mixed sizes

    @Benchmark
    public void stackMixed5(Blackhole bh) {
        try (Arena arena = heap.newConfinedArena()) {
            allocateMixed(arena, bh);
        }
    }

    @Benchmark
    public void jdkConfinedMixed5(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            allocateMixed(arena, bh);
        }
    }

    @Benchmark
    public void jdkSharedMixed5(Blackhole bh) {
        try (Arena arena = Arena.ofShared()) {
            allocateMixed(arena, bh);
        }
    }

    private static void allocateMixed(Arena arena, Blackhole bh) {
        bh.consume(arena.allocate(MIXED[0], 8));
        bh.consume(arena.allocate(MIXED[1], 4));
        bh.consume(arena.allocate(MIXED[2], 1));
        bh.consume(arena.allocate(MIXED[3], 8));
        bh.consume(arena.allocate(MIXED[4], 1));
    }

    // ---------------------------------------------------------------- a realistic call: strlen

    @Benchmark
    public long stackStrlen() throws Throwable {
        try (Arena arena = heap.newConfinedArena()) {
            return (long) strlen.invokeExact(arena.allocateFrom(TEXT));
        }
    }

    @Benchmark
    public long jdkConfinedStrlen() throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            return (long) strlen.invokeExact(arena.allocateFrom(TEXT));
        }
    }

    // ---------------------------------------------------------------- where the stack's nanoseconds go

    /** The scope every frame borrows: a JDK confined arena, opened and closed. */
    @Benchmark
    public void floorJdkOpenClose(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            bh.consume(arena);
        }
    }

    /** The floor plus the window a frame makes: one reinterpret into the arena's scope. */
    @Benchmark
    public void floorJdkOpenReinterpretClose(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            bh.consume(MemorySegment.ofAddress(base).reinterpret(1L << 36, arena, null));
        }
    }

    /** The floor plus the window plus one 64-byte slice of it returned: the stack's minimum work. */
    @Benchmark
    public void floorJdkOpenReinterpretSliceClose(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            bh.consume(MemorySegment.ofAddress(base).reinterpret(1L << 36, arena, null).asSlice(64, 64));
        }
    }

    /** The alternative to a window: each allocation reinterpreted into the arena's scope on its own. */
    @Benchmark
    public void floorJdkOpenReinterpretEachClose(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            bh.consume(MemorySegment.ofAddress(base + 64).reinterpret(64, arena, null));
        }
    }

    /** The clear a 64-byte frame costs when it pops (a fill of a scope-less slice). */
    @Benchmark
    public void floorFill64() {
        raw.asSlice(64, 64).fill((byte) 0);
    }

    /** Holder that lives long (old generation): what a thread's stack object is. */
    static final class OldHolder {
        Object innermost;
    }

    private final OldHolder holder = new OldHolder();

    /**
     * The floor plus one store of the young arena into a long-lived object: what G1's post-write
     * barrier costs per frame if a stack links its frames as objects (why {@code FrameStack} keeps
     * primitive arrays instead).
     */
    @Benchmark
    public void floorJdkOpenStoreClose(Blackhole bh) {
        try (Arena arena = Arena.ofConfined()) {
            holder.innermost = arena;
            bh.consume(arena);
        }
        holder.innermost = null;
    }

    /** A stack arena opened and closed with no allocation. */
    @Benchmark
    public void stackOpenClose(Blackhole bh) {
        try (Arena arena = heap.newConfinedArena()) {
            bh.consume(arena);
        }
    }
}
