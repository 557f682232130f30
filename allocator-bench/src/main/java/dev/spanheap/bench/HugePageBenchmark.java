package dev.spanheap.bench;

import dev.spanheap.SpanHeap;
import dev.spanheap.SpanHeapConfig;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Transparent huge pages on a hot heap: a live set of {@code liveMiB} in 64 KiB blocks (large
 * objects, whole pages), every 64-byte line of it linked into one random cycle, and each operation
 * one dependent load along that cycle, so nearly every load misses the caches and the TLB. With
 * {@code hugePages} on, the heap asks for 2 MiB pages (MADV_HUGEPAGE) from its first arena
 * ({@code hugePagesFrom(0)}, so that every {@code liveMiB} measures them, where the default waits
 * for 256 MiB held) and each TLB entry covers 512 times as much memory; the difference in ns per
 * load is what huge pages buy a heap whose live set is touched at random. {@link #randomReads} does the same with independent reads.
 *
 * <p>Before the measurement, a finished phase of {@value #FREED_MIB} MiB is allocated, touched and
 * freed, and the scavenger (delay 0, nothing retained) runs: the run prints the heap's
 * {@code AnonHugePages} before and after that pass ({@code hugepages:} lines), which must not drop
 * to zero for the hot live set. The live set and the freed phase are written once, so their pages
 * are resident; at most {@code liveMiB + FREED_MIB} of memory per fork.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 4, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class HugePageBenchmark {

    static final int BLOCK = 64 << 10;
    static final int LINE = 64;
    static final int FREED_MIB = 512;
    static final int LOADS = 1024;
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    @State(Scope.Benchmark)
    public static class HotHeap {
        @Param({"true", "false"})
        public boolean hugePages;

        @Param({"2048"})
        public int liveMiB;

        SpanHeap heap;
        long[] blocks;
        long cursor;

        @Setup(Level.Trial)
        public void build() throws InterruptedException {
            heap = SpanHeap.create(SpanHeapConfig.builder().name("hugepages-" + hugePages).hugePages(hugePages).hugePagesFrom(0)
                    .maxHeapBytes(0).scavengerDelay(Duration.ZERO).scavengerRetainRatio(0).build());
            int count = (int) ((long) liveMiB * (1 << 20) / BLOCK);
            blocks = new long[count];
            for (int i = 0; i < count; i++) {
                blocks[i] = heap.allocateAddress(BLOCK);
            }
            long[] phase = new long[(int) ((long) FREED_MIB * (1 << 20) / BLOCK)];
            for (int i = 0; i < phase.length; i++) {
                phase[i] = heap.allocateAddress(BLOCK);
                ALL.asSlice(phase[i], BLOCK).fill((byte) 1);
            }
            linkLines(count);
            Thread.sleep(1100); // the huge-page figure in stats is at most a second old
            long before = heap.stats().machine().hugePageBytes();
            long rssBefore = Rss.currentBytes();
            for (long address : phase) {
                heap.freeAddress(address);
            }
            Thread.sleep(1500); // several scavenger passes (one per 250 ms)
            var stats = heap.stats();
            System.out.printf("%nhugepages: hugePages=%s mode=%s live %d MiB, AnonHugePages before the pass %d MiB, after %d MiB;"
                            + " released %d MiB, retained free %d MiB; RSS before %d MiB, after %d MiB%n", hugePages,
                    stats.machine().transparentHugePages(), liveMiB, before >> 20, stats.machine().hugePageBytes() >> 20,
                    stats.releasedBytesTotal() >> 20, stats.retainedFreeBytes() >> 20, rssBefore >> 20, Rss.currentBytes() >> 20);
            cursor = blocks[0];
        }

        /** Links every line of the live set into one random cycle (Sattolo's shuffle), each line holding the next one's address. */
        private void linkLines(int count) {
            int linesPerBlock = BLOCK / LINE;
            int lines = count * linesPerBlock;
            int[] order = new int[lines];
            for (int i = 0; i < lines; i++) {
                order[i] = i;
            }
            SplittableRandom random = new SplittableRandom(42);
            for (int i = lines - 1; i > 0; i--) {
                int j = random.nextInt(i);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            for (int i = 0; i < lines; i++) {
                int from = order[i];
                int to = order[(i + 1) % lines];
                ALL.set(ValueLayout.JAVA_LONG, address(from, linesPerBlock), address(to, linesPerBlock));
            }
        }

        private long address(int line, int linesPerBlock) {
            return blocks[line / linesPerBlock] + (long) (line % linesPerBlock) * LINE;
        }

        @TearDown(Level.Trial)
        public void close() {
            heap.close();
        }
    }

    /**
     * {@value #LOADS} independent 64-byte reads at random lines of the live set (the CPU overlaps
     * their misses, so this is the throughput side where {@link #chase} is the latency side); the
     * score is per read.
     */
    @Benchmark
    @OperationsPerInvocation(LOADS)
    public long randomReads(HotHeap state) {
        long[] blocks = state.blocks;
        int linesPerBlock = BLOCK / LINE;
        long lines = (long) blocks.length * linesPerBlock;
        long seed = state.cursor | 1;
        long sum = 0;
        for (int i = 0; i < LOADS; i++) {
            seed ^= seed << 13;
            seed ^= seed >>> 7;
            seed ^= seed << 17;
            long line = (seed >>> 1) % lines;
            sum += ALL.get(ValueLayout.JAVA_LONG, blocks[(int) (line / linesPerBlock)] + (line % linesPerBlock) * LINE);
        }
        state.cursor = seed;
        return sum;
    }

    /** {@value #LOADS} dependent loads along the cycle; the score is per load. */
    @Benchmark
    @OperationsPerInvocation(LOADS)
    public long chase(HotHeap state) {
        long at = state.cursor;
        for (int i = 0; i < LOADS; i++) {
            at = ALL.get(ValueLayout.JAVA_LONG, at);
        }
        state.cursor = at;
        return at;
    }
}
