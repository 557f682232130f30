package dev.spanheap;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import dev.spanheap.testkit.Gen;
import dev.spanheap.testkit.PropertyRunner;
import org.junit.jupiter.api.Test;

/**
 * Random sequences of frames: open, allocate (from the innermost arena or any other), close (in
 * LIFO order or not), checked after every step against a model of what must be true: a new
 * segment is zero, is aligned, overlaps no live segment; live segments keep their contents; a
 * closed arena's segments are inaccessible; the stack's and the heap's invariants hold; nothing
 * is left once every arena is closed. Why: out-of-order closes, chunk boundaries and fallbacks
 * interleave in ways no hand-written case covers.
 *
 * <p>The one-thread property runs on {@link PropertyRunner}, each sequence on a fresh heap, so that
 * a sequence's outcome never depends on what an earlier one left behind and its shrunk form
 * (replayed on a fresh heap too) fails the same way: the runner prints the seed, replays one
 * sequence with {@code -Dspanheap.seed=N}, runs more with {@code -Dspanheap.tries=N}, and shrinks a
 * failure. The many-threads property shares one heap on purpose (four threads at once) and
 * reports its seed.
 */
class StackArenaPropertyTest {

    enum Kind { OPEN, ALLOCATE, CLOSE }

    /** One step; {@code pick} chooses among the open arenas when it runs, so any subsequence stays runnable. */
    record Step(Kind kind, int pick, long size, long alignment) {
        @Override
        public String toString() {
            return switch (kind) {
                case OPEN -> "open";
                case ALLOCATE -> "allocate(" + size + ", " + alignment + ") in arena pick " + pick;
                case CLOSE -> "close arena pick " + pick;
            };
        }
    }

    /**
     * A sequence of 1 to 59 steps: a quarter opens, half allocations, a quarter closes; three in
     * four steps aim at the innermost arena; sizes mostly under 300 bytes, some up to 17 KB, a
     * few past the 16 KiB heap-fallback threshold; alignments mostly up to 64, some up to 16 KiB.
     */
    static List<Step> generate(Gen gen) {
        int length = (int) gen.between(1, 59);
        List<Step> steps = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            int roll = gen.below(100);
            Kind kind = roll < 25 ? Kind.OPEN : roll < 75 ? Kind.ALLOCATE : Kind.CLOSE;
            // pick 0 is the innermost arena; other picks count outwards.
            int pick = gen.below(100) < 75 ? 0 : (int) gen.between(1, 5);
            int sizeRoll = gen.below(100);
            long size = sizeRoll < 70 ? gen.between(0, 299)
                    : sizeRoll < 95 ? gen.between(300, 16_999)
                    : gen.between(17_000, 199_999);
            long alignment = gen.below(100) < 90 ? 1L << gen.below(7) : 1L << gen.between(7, 14);
            steps.add(new Step(kind, pick, size, alignment));
        }
        return steps;
    }

    /** The many-threads property draws its sequences from a plain random per thread. */
    static List<Step> generate(SplittableRandom random, int length) {
        Gen gen = new Gen(random.nextLong());
        List<Step> steps = generate(gen);
        return steps.subList(0, Math.min(length, steps.size()));
    }

    /** Simpler replacements of one step, for shrinking: the innermost arena, a smaller size, byte alignment. */
    static List<Step> simpler(Step step) {
        List<Step> simpler = new ArrayList<>();
        if (step.pick() != 0) {
            simpler.add(new Step(step.kind(), 0, step.size(), step.alignment()));
        }
        if (step.kind() == Kind.ALLOCATE) {
            if (step.alignment() > 1) {
                simpler.add(new Step(step.kind(), step.pick(), step.size(), 1));
            }
            if (step.size() > 8) {
                simpler.add(new Step(step.kind(), step.pick(), 8, step.alignment()));
                simpler.add(new Step(step.kind(), step.pick(), step.size() / 2, step.alignment()));
            }
        }
        return simpler;
    }

    private record Live(MemorySegment segment, byte mark) {
    }

    private static final class OpenArena {
        final Arena arena;
        final List<Live> segments = new ArrayList<>();

        OpenArena(Arena arena) {
            this.arena = arena;
        }
    }

    /**
     * Runs the steps on {@code heap}; returns null if every check held, else what broke. The
     * whole-heap checks at the end (statistics, {@link SpanHeap#verifyInvariants}) are exact only
     * when no other thread uses the heap: {@code alone} says so.
     */
    static String run(SpanHeap heap, List<Step> steps, boolean alone) {
        List<OpenArena> open = new ArrayList<>(); // in opening order; last is innermost
        int marks = 0;
        try {
            for (int i = 0; i < steps.size(); i++) {
                Step step = steps.get(i);
                String where = "step " + i + " (" + step + ")";
                switch (step.kind()) {
                    case OPEN -> open.add(new OpenArena(heap.newConfinedArena()));
                    case ALLOCATE -> {
                        if (open.isEmpty()) {
                            continue;
                        }
                        OpenArena target = open.get(open.size() - 1 - step.pick() % open.size());
                        MemorySegment segment = target.arena.allocate(step.size(), step.alignment());
                        if (segment.byteSize() != step.size() || segment.address() % step.alignment() != 0) {
                            return where + ": got " + segment;
                        }
                        for (long b = 0; b < segment.byteSize(); b++) {
                            if (segment.get(ValueLayout.JAVA_BYTE, b) != 0) {
                                return where + ": byte " + b + " of the new segment is not zero";
                            }
                        }
                        for (OpenArena other : open) {
                            for (Live live : other.segments) {
                                MemorySegment s = live.segment();
                                if (segment.byteSize() > 0 && s.byteSize() > 0
                                        && segment.address() < s.address() + s.byteSize()
                                        && s.address() < segment.address() + segment.byteSize()) {
                                    return where + ": new segment " + segment + " overlaps live " + s;
                                }
                            }
                        }
                        byte mark = (byte) (++marks | 1);
                        segment.fill(mark);
                        target.segments.add(new Live(segment, mark));
                    }
                    case CLOSE -> {
                        if (open.isEmpty()) {
                            continue;
                        }
                        OpenArena target = open.remove(open.size() - 1 - step.pick() % open.size());
                        target.arena.close();
                        for (Live live : target.segments) {
                            if (live.segment().scope().isAlive()) {
                                return where + ": a segment of the closed arena is still alive";
                            }
                        }
                        if (!target.segments.isEmpty()) {
                            try {
                                target.segments.get(0).segment().get(ValueLayout.JAVA_BYTE, 0);
                                return where + ": a segment of the closed arena is still accessible";
                            } catch (IllegalStateException | IndexOutOfBoundsException expected) {
                                // IndexOutOfBounds for a zero-length segment, which is checked for bounds first
                            }
                        }
                    }
                }
                String contents = checkContents(open);
                if (contents != null) {
                    return where + ": " + contents;
                }
                if (i % 8 == 7) {
                    String problem = heap.threadStacks().verifyCurrentThread();
                    if (problem != null) {
                        return where + ": " + problem;
                    }
                }
            }
            while (!open.isEmpty()) {
                open.remove(open.size() - 1).arena.close();
            }
            String problem = heap.threadStacks().verifyCurrentThread();
            if (problem != null) {
                return "after closing every arena: " + problem;
            }
            if (!alone) {
                return null;
            }
            problem = heap.threadStacks().verifyPooledChunks();
            if (problem != null) {
                return problem;
            }
            StackStats stack = heap.stats().stack();
            if (stack.openFrames() != 0 || stack.bytesInUse() != 0) {
                return "after closing every arena the stack still has " + stack;
            }
            heap.flushCurrentThreadCache();
            HeapStats stats = heap.stats();
            if (stats.liveObjects() != stack.chunks() + stack.pooledChunks()) {
                return "after closing every arena the heap holds " + stats.liveObjects() + " objects but the stack only "
                        + (stack.chunks() + stack.pooledChunks()) + " chunks (a fallback leaked?)";
            }
            heap.verifyInvariants();
            return null;
        } catch (RuntimeException | AssertionError e) {
            return "threw " + e;
        } finally {
            for (OpenArena left : open) {
                try {
                    left.arena.close();
                } catch (RuntimeException ignored) {
                    // already reported
                }
            }
        }
    }

    private static String checkContents(List<OpenArena> open) {
        for (OpenArena arena : open) {
            for (Live live : arena.segments) {
                MemorySegment s = live.segment();
                long size = s.byteSize();
                for (long b : new long[] {0, size / 2, size - 1}) {
                    if (size > 0 && s.get(ValueLayout.JAVA_BYTE, b) != live.mark()) {
                        return "live segment " + s + " lost its contents at byte " + b;
                    }
                }
            }
        }
        return null;
    }

    /** A heap of its own for each sequence (and each shrink candidate), without a scavenger thread. */
    private static SpanHeap freshHeap() {
        return SpanHeap.create(SpanHeapConfig.builder().name("stack-property").addressSpaceBytes(1L << 30)
                .scavengerEnabled(false).build());
    }

    @Test
    void randomFrameSequencesKeepEveryPromise() {
        // 1,500 sequences: a fresh heap each (mapping and unmapping its first arena) costs more
        // than the sequence itself, so this is about the time the shared-heap loop took for 3,000.
        new PropertyRunner<Step>(StackArenaPropertyTest.class.getSimpleName() + "#oneThread", 1500,
                StackArenaPropertyTest::generate,
                steps -> {
                    try (SpanHeap heap = freshHeap()) {
                        String problem = run(heap, steps, true);
                        if (problem != null) {
                            throw new AssertionError(problem);
                        }
                    }
                },
                StackArenaPropertyTest::simpler)
                .run();
    }

    @Test
    void randomSequencesOnManyThreadsAtOnce() throws Exception {
        long seed = Long.getLong("spanheap.seed", System.nanoTime()) ^ 0x5DEECE66DL;
        System.out.println("StackArenaPropertyTest threads seed " + seed);
        try (SpanHeap heap = SpanHeap.create()) {
            List<Thread> threads = new ArrayList<>();
            List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 4; t++) {
                SplittableRandom random = new SplittableRandom(seed + t);
                Thread.Builder builder = t % 2 == 0 ? Thread.ofPlatform() : Thread.ofVirtual();
                threads.add(builder.start(() -> {
                    for (int i = 0; i < 300 && problems.isEmpty(); i++) {
                        String problem = run(heap, generate(random, random.nextInt(1, 40)), false);
                        if (problem != null) {
                            problems.add(Thread.currentThread() + " sequence " + i + ": " + problem);
                        }
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(List.of(), problems, "seed " + seed);
            heap.flushReachableCaches();
            heap.verifyInvariants();
            assertEquals(0, heap.stats().stack().openFrames());
        }
    }
}
