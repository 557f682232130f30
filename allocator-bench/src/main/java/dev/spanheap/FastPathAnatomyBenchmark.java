package dev.spanheap;

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
 * apart, one piece added per benchmark, all in the same run. It lives in package
 * {@code dev.spanheap} (on the class path) to reach the package-private thread cache.
 *
 * <ol>
 * <li>{@link #arrayFloor}: pop and push of a long on a plain array, the floor of any design that
 *     keeps free slots in arrays.</li>
 * <li>{@link #cachePopPush}: pop and push on a {@link ThreadCache} whose class is known: the packed
 *     state word and the slot array.</li>
 * <li>{@link #cacheFoundThroughThreadTable}: the same, with the cache found as the heap finds it
 *     ({@code table[threadId & 4095]} and an owner check), once for the pop and once for the push.</li>
 * <li>{@link #pushAfterPageLookup}: the pop, then the free path's page-table lookup and slot check,
 *     and the push into the class the page table names. The class of the push now depends on the
 *     address the pop returned, so each iteration waits for the previous one's lookup.</li>
 * <li>{@link #heapAllocateAndFree}: the real {@code allocateAddress} + {@code freeAddress}.</li>
 * </ol>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class FastPathAnatomyBenchmark {

    private static final long[] SLOT_AREA_END = new long[SizeClasses.CLASS_COUNT];

    static {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            SLOT_AREA_END[c] = (long) SizeClasses.SLOTS_PER_SPAN[c] * SizeClasses.SLOT_SIZE[c];
        }
    }

    @Param({"64"})
    public long size;

    private SpanHeap heap;
    private ThreadCache cache;
    private final ThreadCache[] table = new ThreadCache[4096];
    private int sizeClass;
    private int[] pageInfo;
    private long base;
    private final long[] stack = new long[64];
    private int top;

    @Setup(Level.Trial)
    public void setUp() {
        heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build());
        sizeClass = SizeClasses.classOf(size);
        cache = new ThreadCache(Thread.currentThread(), 0, null, 0);
        table[(int) Thread.currentThread().threadId() & 4095] = cache;
        // One real slot on the private cache, so that the page lookup sees a real address.
        cache.push(sizeClass, heap.allocateAddress(size));
        pageInfo = heap.addressRange().pageInfo;
        base = heap.addressRange().base;
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
        long a = cache.pop(sizeClass);
        cache.push(sizeClass, a);
    }

    @Benchmark
    public void cacheFoundThroughThreadTable() {
        Thread thread = Thread.currentThread();
        ThreadCache forPop = table[(int) thread.threadId() & 4095];
        long a = forPop != null && forPop.owner == thread ? forPop.pop(sizeClass) : 0;
        ThreadCache forPush = table[(int) Thread.currentThread().threadId() & 4095];
        if (forPush != null && forPush.owner == thread) {
            forPush.push(sizeClass, a);
        }
    }

    @Benchmark
    public boolean pushAfterPageLookup() {
        long a = cache.pop(sizeClass);
        long offset = a - base;
        int[] info = pageInfo;
        long page = offset >>> SizeClasses.PAGE_SHIFT;
        if (page < info.length) {
            int entry = info[(int) page];
            int c = entry & 0xFF;
            long inSpan = (offset & SizeClasses.PAGE_MASK) | (long) (entry >>> 8) << SizeClasses.PAGE_SHIFT;
            if (inSpan < SLOT_AREA_END[c] && SizeClasses.isSlotMultiple(inSpan, c)) {
                return cache.push(c, a);
            }
        }
        return false;
    }

    @Benchmark
    public void heapAllocateAndFree() {
        heap.freeAddress(heap.allocateAddress(size));
    }
}
