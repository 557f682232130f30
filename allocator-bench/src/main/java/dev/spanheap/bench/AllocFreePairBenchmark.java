package dev.spanheap.bench;

import dev.spanheap.SpanHeap;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * One allocation and one free of the same size per operation, on one thread: the cost of the
 * fast path of every allocator side by side. This is the number users compare first, and the one
 * the project's targets are stated in (SpanHeap's raw path at most 0.35 of glibc malloc through a
 * plain downcall, up to 32 KiB).
 *
 * <p>Every allocator has its own method, so that each JMH fork runs exactly one of them and no
 * call site is shared. The native baselines take their sizes as {@code long} and return addresses
 * as {@code long}: no garbage on either side.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class AllocFreePairBenchmark {

    /** The sizes of the table: 16 B to 1 MiB (up to 32 KiB SpanHeap serves from size classes). */
    @State(Scope.Thread)
    public static class Size {
        @Param({"16", "64", "256", "1024", "4096", "32768", "262144", "1048576"})
        public int size;
    }

    /** {@code Arena.ofShared()} costs a handshake per close (tens of µs): two sizes are enough to show it. */
    @State(Scope.Thread)
    public static class SharedArenaSize {
        @Param({"64", "4096"})
        public int size;
    }

    @State(Scope.Benchmark)
    public static class Heap {
        public SpanHeap heap;

        @Setup
        public void open() {
            heap = SpanHeap.create();
        }

        @TearDown
        public void close() {
            heap.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Glibc {
        final RawAllocator.GlibcPlain plain = new RawAllocator.GlibcPlain();
        final RawAllocator.GlibcCritical critical = new RawAllocator.GlibcCritical();
    }

    @State(Scope.Benchmark)
    public static class Mimalloc {
        final RawAllocator.Mimalloc allocator = (RawAllocator.Mimalloc) RawAllocator.create("mimalloc");
    }

    @State(Scope.Benchmark)
    public static class Tcmalloc {
        final RawAllocator.Tcmalloc allocator = (RawAllocator.Tcmalloc) RawAllocator.create("tcmalloc");
    }

    @State(Scope.Benchmark)
    public static class Jemalloc {
        final RawAllocator.Jemalloc allocator = (RawAllocator.Jemalloc) RawAllocator.create("jemalloc");
    }

    @State(Scope.Benchmark)
    public static class NettyPooled {
        final PooledByteBufAllocator allocator = new PooledByteBufAllocator(true);
    }

    @State(Scope.Benchmark)
    public static class NettyAdaptive {
        final AdaptiveByteBufAllocator allocator = new AdaptiveByteBufAllocator(true, true);
    }

    // ---------------------------------------------------------------- SpanHeap

    /** The raw path: an address in, an address out. */
    @Benchmark
    public long spanheapAddress(Heap h, Size s) {
        long address = h.heap.allocateAddress(s.size);
        h.heap.freeAddress(address);
        return address;
    }

    /** A segment whose contents are unspecified (no zeroing), freed by segment. */
    @Benchmark
    public long spanheapUninitialized(Heap h, Size s) {
        MemorySegment segment = h.heap.allocateUninitialized(s.size, 8);
        h.heap.free(segment);
        return segment.address();
    }

    /** The {@code SegmentAllocator} contract: zero-filled, like {@code calloc}. */
    @Benchmark
    public long spanheapAllocate(Heap h, Size s) {
        MemorySegment segment = h.heap.allocate(s.size, 8);
        h.heap.free(segment);
        return segment.address();
    }

    // ---------------------------------------------------------------- glibc

    @Benchmark
    public long malloc(Glibc g, Size s) {
        long address = g.plain.allocate(s.size);
        g.plain.free(address);
        return address;
    }

    @Benchmark
    public long mallocCritical(Glibc g, Size s) {
        long address = g.critical.allocate(s.size);
        g.critical.free(address);
        return address;
    }

    /** The baseline for zero-filling {@code allocate}. */
    @Benchmark
    public long calloc(Glibc g, Size s) {
        long address = g.plain.allocateZeroed(s.size);
        g.plain.free(address);
        return address;
    }

    // ---------------------------------------------------------------- other native allocators (critical downcalls)

    @Benchmark
    public long mimalloc(Mimalloc m, Size s) {
        long address = m.allocator.allocate(s.size);
        m.allocator.free(address);
        return address;
    }

    @Benchmark
    public long tcmalloc(Tcmalloc t, Size s) {
        long address = t.allocator.allocate(s.size);
        t.allocator.free(address);
        return address;
    }

    @Benchmark
    public long jemalloc(Jemalloc j, Size s) {
        long address = j.allocator.allocate(s.size);
        j.allocator.free(address);
        return address;
    }

    // ---------------------------------------------------------------- the JDK's arenas

    /** What Java code does today without an allocator: an arena per allocation. */
    @Benchmark
    public long arenaConfined(Size s) {
        try (Arena arena = Arena.ofConfined()) {
            return arena.allocate(s.size, 8).address();
        }
    }

    @Benchmark
    public long arenaShared(SharedArenaSize s) {
        try (Arena arena = Arena.ofShared()) {
            return arena.allocate(s.size, 8).address();
        }
    }

    // ---------------------------------------------------------------- Netty 4.2 direct buffers

    @Benchmark
    public int nettyPooled(NettyPooled n, Size s) {
        ByteBuf buffer = n.allocator.directBuffer(s.size, s.size);
        int capacity = buffer.capacity();
        buffer.release();
        return capacity;
    }

    @Benchmark
    public int nettyAdaptive(NettyAdaptive n, Size s) {
        ByteBuf buffer = n.allocator.directBuffer(s.size, s.size);
        int capacity = buffer.capacity();
        buffer.release();
        return capacity;
    }
}
