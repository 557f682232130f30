package dev.spanheap.bench;

import dev.spanheap.SpanHeap;
import dev.spanheap.SpanHeapConfig;
import dev.spanheap.internal.CoreProbe;
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
 * Where the nanoseconds of {@code allocateAddress} + {@code freeAddress} go: the fast path taken
 * apart, one piece added per benchmark, all in the same run. The pieces are the core's own code,
 * reached through {@link CoreProbe} (for the project's benchmarks; not API).
 *
 * <ol>
 * <li>{@link #arrayFloor}: pop and push of a long on a plain array, the floor of any design that
 *     keeps free slots in arrays.</li>
 * <li>{@link #cachePopPush}: pop and push on a thread cache whose class is known: the packed
 *     state word and the slot array.</li>
 * <li>{@link #cacheFoundThroughThreadTable}: the same, with the cache found as the heap finds it
 *     ({@code table[threadId & 4095]} and an owner check), once for the pop and once for the push.</li>
 * <li>{@link #pushAfterPageLookup}: the pop, then the free path's page-table lookup and slot check
 *     ({@link CoreProbe#ownSlotClass}, the check {@code freeAddress} makes), and the push into the
 *     class the page table names. The class of the push now depends on the address the pop
 *     returned, so each iteration waits for the previous one's lookup.</li>
 * <li>{@link #heapAllocateAndFree}: the real {@code allocateAddress} + {@code freeAddress}.</li>
 * </ol>
 *
 * <p>The heap has one shard, so that the benchmark's own cache (shard 0) and the heap's slot agree
 * on the shard the page table names; with two, the slot could belong to shard 1 and the lookup
 * would send every push down the slow path.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class FastPathAnatomyBenchmark {

    @Param({"64"})
    public long size;

    private SpanHeap heap;
    private Object cache;
    private final Object[] table = new Object[4096];
    private int sizeClass;
    private final long[] stack = new long[64];
    private int top;

    @Setup(Level.Trial)
    public void setUp() {
        heap = SpanHeap.create(SpanHeapConfig.builder().shards(1).scavengerEnabled(false).build());
        sizeClass = CoreProbe.sizeClassOf(size);
        cache = CoreProbe.newThreadCache(Thread.currentThread());
        table[(int) Thread.currentThread().threadId() & 4095] = cache;
        // One real slot on the private cache, so that the page lookup sees a real address.
        long slot = heap.allocateAddress(size);
        if (CoreProbe.ownSlotClass(heap, cache, slot) != sizeClass) {
            throw new IllegalStateException("the page table does not name class " + sizeClass + " for the heap's own slot");
        }
        CoreProbe.push(cache, sizeClass, slot);
        stack[0] = 64;
        top = 1;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
    }

    @Benchmark
    public void arrayFloor() {
        long a = stack[--top];
        stack[top++] = a;
    }

    @Benchmark
    public void cachePopPush() {
        long a = CoreProbe.pop(cache, sizeClass);
        CoreProbe.push(cache, sizeClass, a);
    }

    @Benchmark
    public void cacheFoundThroughThreadTable() {
        Thread thread = Thread.currentThread();
        Object forPop = table[(int) thread.threadId() & 4095];
        long a = forPop != null && CoreProbe.isOwnedBy(forPop, thread) ? CoreProbe.pop(forPop, sizeClass) : 0;
        Object forPush = table[(int) Thread.currentThread().threadId() & 4095];
        if (forPush != null && CoreProbe.isOwnedBy(forPush, thread)) {
            CoreProbe.push(forPush, sizeClass, a);
        }
    }

    @Benchmark
    public boolean pushAfterPageLookup() {
        long a = CoreProbe.pop(cache, sizeClass);
        int c = CoreProbe.ownSlotClass(heap, cache, a);
        return c != 0 && CoreProbe.push(cache, c, a);
    }

    @Benchmark
    public void heapAllocateAndFree() {
        heap.freeAddress(heap.allocateAddress(size));
    }
}
