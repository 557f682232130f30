package dev.spanheap.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The allocator under test in the workload benchmarks, chosen by the {@code allocator} parameter
 * (one of {@link RawAllocator#NAMES}); one per JMH fork, shared by all the benchmark's threads.
 * {@link SuiteRunner} passes only the allocators available on this machine and reports the
 * others as skipped.
 */
@State(Scope.Benchmark)
@SuppressWarnings("restricted") // reinterpret: the benchmarks run with --enable-native-access
public class AllocatorState {

    /** All of memory as one segment, to touch blocks by raw address without creating segments. */
    static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    @Param({"spanheap", "malloc", "malloc-critical", "mimalloc", "tcmalloc", "jemalloc"})
    public String allocator;

    public RawAllocator raw;

    /**
     * Holders of {@link #raw}: this state plus every thread or group state that frees blocks in its
     * own teardown. JMH may tear a benchmark-scoped state down while other threads still run their
     * thread-scoped teardowns, so the last holder to let go closes the allocator.
     */
    private final AtomicInteger holders = new AtomicInteger(1);

    @Setup
    public void open() {
        raw = RawAllocator.create(allocator);
    }

    /** Takes a hold on the allocator; give it back with {@link #release()} after the last free. */
    public RawAllocator acquire() {
        holders.incrementAndGet();
        return raw;
    }

    public void release() {
        if (holders.decrementAndGet() == 0) {
            raw.close();
        }
    }

    @TearDown
    public void close() {
        release();
    }

    /** Writes one long at the start of a block, as a program would (and so the block must be real memory). */
    static void touch(long address, long value) {
        ALL_MEMORY.set(ValueLayout.JAVA_LONG_UNALIGNED, address, value);
    }
}
