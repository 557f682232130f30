package dev.spanheap.bench;

import dev.spanheap.HeapStats;
import dev.spanheap.SpanHeap;
import dev.spanheap.SpanHeapConfig;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spanheap stress}: several threads allocate, write a pattern, pass blocks to each other,
 * reallocate, verify and free, for a given time, with a live progress line. Every block's contents
 * are checked before it is freed (and zeroing allocations are checked to be zero), and at the end
 * the heap must account for every byte: no live objects, no double frees. Exit code 0 only if all
 * of that holds.
 */
@Command(name = "stress",
        header = "a concurrency stress run with pattern verification; exit 0 only if all verified",
        customSynopsis = "spanheap stress [--duration TIME] [--threads N] [--max-live-mib MIB] [--seed SEED] [--checked]",
        description = {
                "Threads allocate blocks of mixed sizes (8 B to 1 MiB) through allocateAddress, allocateUninitialized",
                "and allocate, fill each with a pattern derived from a per-block seed, hand some to other threads to",
                "free, reallocate some, and verify every block before freeing it (zeroing allocations are checked to",
                "be zero first). A progress line shows ops/s, live bytes and RSS. At the end every block is freed and",
                "the heap's statistics must show no live object and no double free. Exit code 0 only if all verified."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        sortOptions = false)
final class StressCommand implements ToolCommand {

    /** Blocks up to this size are checked in full; larger ones on their first and last 4 KiB. */
    private static final int FULL_CHECK_LIMIT = 64 << 10;
    private static final int EDGE_CHECK_BYTES = 4 << 10;
    private static final long WORD_STEP = 0x9E3779B97F4A7C15L;
    private static final int BLOCKS_PER_THREAD = 4096;

    @Spec
    private CommandSpec spec;

    @Option(names = "--duration", paramLabel = "TIME", defaultValue = "10s", converter = DurationConverter.class,
            description = "how long to run, e.g. 2s, 30s, 5m (default ${DEFAULT-VALUE})")
    private Duration duration;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "4", converter = WholeNumberConverter.class,
            description = "worker threads (default ${DEFAULT-VALUE})")
    private long threadCount;

    @Option(names = "--max-live-mib", paramLabel = "MIB", defaultValue = "64", converter = WholeNumberConverter.class,
            description = "bound on live bytes over all threads (default ${DEFAULT-VALUE})")
    private long maxLiveMibOption;

    @Option(names = "--seed", paramLabel = "SEED", converter = WholeNumberConverter.class,
            description = "random seed (default: time-based; printed, so a run can be replayed)")
    private Long seedOption;

    @Option(names = "--checked", description = "use the heap's checked mode (catches every double free and writes after free)")
    private boolean checked;

    @Mixin
    private HelpOption help;

    /** One live block: where, how big, how it was allocated, and the seed of its pattern. */
    private record Block(long address, long size, MemorySegment segment, long pattern) {
    }

    /** Shared between the workers and the monitor. */
    private static final class Run {
        final SpanHeap heap;
        final long maxLivePerThread;
        final AtomicReference<String> failure = new AtomicReference<>();
        volatile boolean stop;
        final List<Worker> workers = new ArrayList<>();

        Run(SpanHeap heap, long maxLivePerThread) {
            this.heap = heap;
            this.maxLivePerThread = maxLivePerThread;
        }

        void fail(String message) {
            failure.compareAndSet(null, message);
            stop = true;
        }
    }

    private static final class Worker implements Runnable {
        final Run run;
        final int index;
        final SplittableRandom random;
        final int[] sizes;
        final Block[] blocks = new Block[BLOCKS_PER_THREAD];
        int count;
        final ConcurrentLinkedQueue<Block> inbox = new ConcurrentLinkedQueue<>();
        /** Written by this worker only; read by the monitor. */
        volatile long operations;
        volatile long liveBytes;
        long allocations;
        long frees;
        long handedOff;
        long reallocations;
        long verifiedBytes;

        Worker(Run run, int index, long seed) {
            this.run = run;
            this.index = index;
            this.random = new SplittableRandom(seed);
            this.sizes = SizeDistribution.table(seed);
        }

        @Override
        public void run() {
            try {
                long ops = 0;
                while (!run.stop) {
                    for (int i = 0; i < 64; i++) {
                        Block incoming = inbox.poll();
                        if (incoming == null) {
                            break;
                        }
                        verifyAndFree(incoming);
                    }
                    int choice = random.nextInt(100);
                    if (count < BLOCKS_PER_THREAD && liveBytes < run.maxLivePerThread && (choice < 55 || count == 0)) {
                        allocate();
                    } else if (choice < 62) {
                        reallocate();
                    } else if (choice < 72 && run.workers.size() > 1) {
                        handOff();
                    } else {
                        verifyAndFree(take(random.nextInt(count)));
                    }
                    operations = ++ops;
                }
            } catch (Throwable e) {
                run.fail("worker " + index + ": " + e);
            }
        }

        private long nextSize() {
            if (random.nextInt(500) == 0) {
                return random.nextLong(32 << 10, (1 << 20) + 1);
            }
            return sizes[(int) (allocations & SizeDistribution.TABLE_MASK)];
        }

        private void allocate() {
            long size = nextSize();
            long pattern = random.nextLong();
            Block block;
            switch (random.nextInt(3)) {
                case 0 -> block = new Block(run.heap.allocateAddress(size), size, null, pattern);
                case 1 -> {
                    MemorySegment segment = run.heap.allocateUninitialized(size, 8);
                    block = new Block(segment.address(), size, segment, pattern);
                }
                default -> {
                    MemorySegment segment = run.heap.allocate(size, 8);
                    checkZero(segment, 0, size, "allocate(" + size + ")");
                    block = new Block(segment.address(), size, segment, pattern);
                }
            }
            fill(view(block), 0, size, pattern);
            blocks[count++] = block;
            liveBytes += size;
            allocations++;
        }

        private void reallocate() {
            if (count == 0) {
                return;
            }
            int slot = random.nextInt(count);
            Block old = blocks[slot];
            if (old.segment() == null) {
                return;
            }
            verify(old);
            long newSize = nextSize();
            if (newSize > old.size() && liveBytes + newSize - old.size() > run.maxLivePerThread) {
                newSize = old.size() / 2; // at the live bound: shrink instead of growing past it
            }
            MemorySegment moved = run.heap.reallocate(old.segment(), newSize);
            long kept = Math.min(old.size(), newSize);
            for (long[] range : ranges(0, old.size())) {
                long end = Math.min(range[1], kept);
                if (range[0] < end) {
                    check(moved, range[0], end, old.pattern(), "reallocate(" + old.size() + " -> " + newSize + ") kept bytes");
                }
            }
            if (newSize > old.size()) {
                checkZero(moved, old.size(), newSize, "reallocate(" + old.size() + " -> " + newSize + ") new bytes");
            }
            long pattern = random.nextLong();
            fill(moved, 0, newSize, pattern);
            blocks[slot] = new Block(moved.address(), newSize, moved, pattern);
            liveBytes += newSize - old.size();
            reallocations++;
        }

        private void handOff() {
            if (count == 0) {
                return;
            }
            Worker other = run.workers.get((index + 1 + random.nextInt(run.workers.size() - 1)) % run.workers.size());
            Block block = take(random.nextInt(count));
            other.inbox.add(block);
            handedOff++;
        }

        private Block take(int slot) {
            Block block = blocks[slot];
            blocks[slot] = blocks[--count];
            blocks[count] = null;
            liveBytes -= block.size();
            return block;
        }

        void verifyAndFree(Block block) {
            verify(block);
            if (block.segment() != null) {
                run.heap.free(block.segment());
            } else {
                run.heap.freeAddress(block.address());
            }
            frees++;
        }

        private void verify(Block block) {
            verifiedBytes += check(view(block), 0, block.size(), block.pattern(), "block of " + block.size() + " bytes");
        }

        private static MemorySegment view(Block block) {
            return block.segment() != null ? block.segment()
                    : AllocatorState.ALL_MEMORY.asSlice(block.address(), block.size());
        }

        private void checkZero(MemorySegment segment, long from, long to, String what) {
            for (long[] range : ranges(from, to)) {
                for (long offset = range[0]; offset < range[1]; offset++) {
                    byte value = segment.get(ValueLayout.JAVA_BYTE, offset);
                    if (value != 0) {
                        throw new IllegalStateException(what + " at " + hex(segment.address()) + ": byte " + offset
                                + " is " + value + ", expected zero");
                    }
                }
            }
        }
    }

    /** The pattern's byte at {@code offset}: byte {@code offset % 8} of word {@code offset / 8}. */
    private static byte patternByte(long pattern, long offset) {
        long word = pattern + (offset >>> 3) * WORD_STEP;
        return (byte) (word >>> ((offset & 7) * 8));
    }

    private static void fill(MemorySegment segment, long from, long to, long pattern) {
        for (long[] range : ranges(from, to)) {
            long offset = range[0];
            while (offset < range[1] && (offset & 7) != 0) {
                segment.set(ValueLayout.JAVA_BYTE, offset, patternByte(pattern, offset));
                offset++;
            }
            for (; offset + 8 <= range[1]; offset += 8) {
                segment.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, pattern + (offset >>> 3) * WORD_STEP);
            }
            for (; offset < range[1]; offset++) {
                segment.set(ValueLayout.JAVA_BYTE, offset, patternByte(pattern, offset));
            }
        }
    }

    /** Checks the pattern over [from, to) (both edges only if large); returns the bytes checked; throws naming the first wrong byte. */
    private static long check(MemorySegment segment, long from, long to, long pattern, String what) {
        long checked = 0;
        for (long[] range : ranges(from, to)) {
            long offset = range[0];
            // Whole words first (a mismatch falls through to the byte loop, which names the byte).
            if ((offset & 7) == 0) {
                while (offset + 8 <= range[1]
                        && segment.get(ValueLayout.JAVA_LONG_UNALIGNED, offset) == pattern + (offset >>> 3) * WORD_STEP) {
                    offset += 8;
                }
            }
            for (; offset < range[1]; offset++) {
                byte expected = patternByte(pattern, offset);
                byte actual = segment.get(ValueLayout.JAVA_BYTE, offset);
                if (actual != expected) {
                    throw new IllegalStateException(what + " at " + hex(segment.address()) + ": byte " + offset
                            + " is " + actual + ", expected " + expected + " (contents overwritten or block handed out twice)");
                }
            }
            checked += range[1] - range[0];
        }
        return checked;
    }

    /** The byte ranges of [from, to) that are filled and checked: all of it if small, else both edges. */
    private static long[][] ranges(long from, long to) {
        if (to - from <= FULL_CHECK_LIMIT) {
            return new long[][] {{from, to}};
        }
        return new long[][] {{from, from + EDGE_CHECK_BYTES}, {to - EDGE_CHECK_BYTES, to}};
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        int threads = OptionChecks.between(spec, "--threads", threadCount, 1, 256);
        int maxLiveMib = OptionChecks.between(spec, "--max-live-mib", maxLiveMibOption, 1, 1 << 20);
        long seed = seedOption != null ? seedOption : System.nanoTime();

        out.printf(Locale.ROOT, "spanheap stress: %d threads, %s, live bytes up to %d MiB, seed %d%s%n",
                threads, format(duration), maxLiveMib, seed, checked ? ", checked mode" : "");
        SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().checked(checked).name("stress").build());
        try {
            Run run = new Run(heap, ((long) maxLiveMib << 20) / threads);
            for (int i = 0; i < threads; i++) {
                run.workers.add(new Worker(run, i, seed + 7919L * i));
            }
            List<Thread> started = new ArrayList<>();
            long startNanos = System.nanoTime();
            for (Worker worker : run.workers) {
                started.add(Thread.ofPlatform().name("stress-" + worker.index).start(worker));
            }
            monitor(run, duration, startNanos, out);
            run.stop = true;
            for (Thread thread : started) {
                thread.join(Duration.ofSeconds(30));
                if (thread.isAlive()) {
                    run.fail(thread.getName() + " did not stop within 30 s after the end of the run");
                }
            }
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            long operations = 0;
            long allocations = 0;
            long frees = 0;
            long handedOff = 0;
            long reallocations = 0;
            long verifiedBytes = 0;
            if (run.failure.get() == null) {
                // Every worker has stopped: free what is left, from this thread (more cross-thread frees).
                for (Worker worker : run.workers) {
                    try {
                        for (Block block = worker.inbox.poll(); block != null; block = worker.inbox.poll()) {
                            worker.verifyAndFree(block);
                        }
                        while (worker.count > 0) {
                            worker.verifyAndFree(worker.take(worker.count - 1));
                        }
                    } catch (RuntimeException e) {
                        run.fail("final check of worker " + worker.index + "'s blocks: " + e.getMessage());
                        break;
                    }
                }
            }
            for (Worker worker : run.workers) {
                operations += worker.operations;
                allocations += worker.allocations;
                frees += worker.frees;
                handedOff += worker.handedOff;
                reallocations += worker.reallocations;
                verifiedBytes += worker.verifiedBytes;
            }
            HeapStats stats = heap.stats();
            if (run.failure.get() == null && stats.liveObjects() != 0) {
                run.fail("after freeing every block the heap still counts " + stats.liveObjects() + " live objects ("
                        + stats.allocatedBytes() + " bytes)");
            }
            if (run.failure.get() == null && stats.doubleFreesDetected() != 0) {
                run.fail("the heap detected " + stats.doubleFreesDetected() + " double frees, but the run freed each block once");
            }
            long released = heap.releaseFreeMemory();
            out.println();
            out.printf(Locale.ROOT, "%,d operations in %.1f s (%,.0f ops/s): %,d allocations, %,d frees, %,d handed to another thread, %,d reallocations%n",
                    operations, seconds, operations / seconds, allocations, frees, handedOff, reallocations);
            out.printf(Locale.ROOT, "verified %,d bytes; peak RSS %s; released %s to the OS at the end%n",
                    verifiedBytes, ResultRenderer.mib(Rss.peakBytes()), ResultRenderer.mib(released));
            out.println();
            out.println(heap.report());
            String failure = run.failure.get();
            if (failure != null) {
                out.println("FAILED: " + failure);
                out.println("replay with: spanheap stress --seed " + seed + " --threads " + threads + " --duration " + format(duration)
                        + (checked ? " --checked" : ""));
                return 1;
            }
            out.println("OK: every block verified, every byte accounted for");
            return 0;
        } finally {
            heap.close();
        }
    }

    private static void monitor(Run run, Duration duration, long startNanos, PrintStream out) throws InterruptedException {
        boolean terminal = System.console() != null && out == System.out;
        long endNanos = startNanos + duration.toNanos();
        long lastOps = 0;
        long lastNanos = startNanos;
        long lastPrinted = 0;
        while (!run.stop) {
            long now = System.nanoTime();
            if (now >= endNanos) {
                break;
            }
            Thread.sleep(Math.max(1, Math.min(250, (endNanos - now) / 1_000_000)));
            now = System.nanoTime();
            if (now - lastPrinted < (terminal ? 250_000_000L : 1_000_000_000L)) {
                continue;
            }
            long ops = 0;
            long live = 0;
            for (Worker worker : run.workers) {
                ops += worker.operations;
                live += worker.liveBytes;
            }
            double rate = (ops - lastOps) / ((now - lastNanos) / 1e9);
            long held = run.heap.stats().heldBytes();
            String progress = String.format(Locale.ROOT, "%5.1f s  %,12.0f ops/s  live %9s  heap holds %9s  RSS %9s",
                    (now - startNanos) / 1e9, rate, ResultRenderer.mib(live), ResultRenderer.mib(held),
                    ResultRenderer.mib(Rss.currentBytes()));
            if (terminal) {
                out.print("\r" + progress);
            } else {
                out.println(progress);
            }
            out.flush();
            lastOps = ops;
            lastNanos = now;
            lastPrinted = now;
        }
    }

    private static String format(Duration duration) {
        long ms = duration.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
