package dev.spanheap.bench;

import dev.spanheap.SpanHeap;
import dev.spanheap.netty.SpanHeapByteBufAllocator;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Netty direct buffers under churn, in the shape of the benchmark of Netty PR #15525: each thread
 * keeps {@value #LIVE_BUFFERS} live buffers of mixed sizes ({@link SizeDistribution}, 8 B to
 * 256 KiB); an operation releases a random one, allocates a new buffer of the next size in its
 * place, writes a long at each end and reads both back. SpanHeap's allocator against Netty 4.2's
 * default (adaptive) and its pooled allocator; run with {@code -t 1} and {@code -t 2}, each thread
 * with its own buffers on the shared allocator.
 *
 * <p>The forks get Netty's defaults on Java 25 (no {@code sun.misc.Unsafe}): {@code jvmArgs}
 * replaces the host JVM's flags, so a host started with {@code --sun-misc-unsafe-memory-access=allow}
 * does not turn Unsafe on for Netty's own buffers.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class NettyLiveBuffersBenchmark {

    static final int LIVE_BUFFERS = 128;

    /** The allocator under test, shared by the benchmark's threads. */
    @State(Scope.Benchmark)
    public static class Allocator {
        @Param({"spanheap", "adaptive", "pooled"})
        public String allocator;

        ByteBufAllocator instance;
        private SpanHeap heap;
        /** Threads whose buffers are still live; the last one to drain closes the heap. */
        private final AtomicInteger holders = new AtomicInteger();

        @Setup(Level.Trial)
        public void open() {
            instance = switch (allocator) {
                case "spanheap" -> new SpanHeapByteBufAllocator(heap = SpanHeap.create());
                case "adaptive" -> new AdaptiveByteBufAllocator(true, true);
                case "pooled" -> new PooledByteBufAllocator(true);
                default -> throw new IllegalArgumentException("unknown allocator " + allocator
                        + "; expected spanheap, adaptive or pooled");
            };
        }

        void hold() {
            holders.incrementAndGet();
        }

        // JMH may tear this state down before the threads' states, whose buffers live in the heap.
        void letGo() {
            if (holders.decrementAndGet() == 0 && heap != null) {
                heap.close();
            }
        }
    }

    /** One thread's live buffers and its position in the size and victim tables. */
    @State(Scope.Thread)
    public static class Buffers {
        ByteBuf[] live;
        int[] sizes;
        int[] victims;
        int cursor;

        private Allocator allocator;

        @Setup(Level.Trial)
        public void fill(Allocator allocator, ThreadParams thread) {
            this.allocator = allocator;
            allocator.hold();
            sizes = SizeDistribution.table(1000 + thread.getThreadIndex());
            victims = SizeDistribution.indexes(2000 + thread.getThreadIndex(), LIVE_BUFFERS);
            live = new ByteBuf[LIVE_BUFFERS];
            for (int i = 0; i < LIVE_BUFFERS; i++) {
                live[i] = allocator.instance.directBuffer(sizes[i], sizes[i]);
            }
        }

        @TearDown(Level.Trial)
        public void drain() {
            for (ByteBuf buffer : live) {
                buffer.release();
            }
            allocator.letGo();
        }
    }

    @Benchmark
    public long allocateWriteReadRelease(Allocator allocator, Buffers buffers) {
        int at = buffers.cursor++ & SizeDistribution.TABLE_MASK;
        int victim = buffers.victims[at];
        int size = Math.max(buffers.sizes[at], Long.BYTES);
        buffers.live[victim].release();
        ByteBuf buffer = allocator.instance.directBuffer(size, size);
        buffer.writeLong(at);
        buffer.setLong(size - Long.BYTES, size);
        buffers.live[victim] = buffer;
        return buffer.readLong() + buffer.getLong(size - Long.BYTES);
    }
}
