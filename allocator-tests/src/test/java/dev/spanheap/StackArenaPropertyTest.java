package dev.spanheap;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random sequences of frames: open, allocate (from the innermost arena or any other), close (in
 * LIFO order or not), checked after every step against a model of what must be true: a new
 * segment is zero, is aligned, overlaps no live segment; live segments keep their contents; a
 * closed arena's segments are inaccessible; the stack's and the heap's invariants hold; nothing
 * is left once every arena is closed. Why: out-of-order closes, chunk boundaries and fallbacks
 * interleave in ways no hand-written case covers.
 *
 * <p>Seeded: the seed is printed; replay with {@code -Dspanheap.seed=N}, run more sequences with
 * {@code -Dspanheap.tries=N}. A failing sequence is shrunk (steps removed one at a time while it
 * still fails) and the shortest one is reported.
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

    static List<Step> generate(SplittableRandom random, int length) {
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            int roll = random.nextInt(100);
            Kind kind = roll < 25 ? Kind.OPEN : roll < 75 ? Kind.ALLOCATE : Kind.CLOSE;
            // pick 0 is the innermost arena; other picks count outwards.
            int pick = random.nextInt(100) < 75 ? 0 : random.nextInt(1, 6);
            int sizeRoll = random.nextInt(100);
            long size = sizeRoll < 70 ? random.nextInt(0, 300)
                    : sizeRoll < 95 ? random.nextInt(300, 17_000)
                    : random.nextInt(17_000, 200_000);
            long alignment = random.nextInt(100) < 90 ? 1L << random.nextInt(0, 7) : 1L << random.nextInt(7, 15);
            steps.add(new Step(kind, pick, size, alignment));
        }
        return steps;
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

    /** Removes steps one at a time while the sequence still fails; returns the shortest failing one. */
    static List<Step> shrink(List<Step> failing) {
        List<Step> best = failing;
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < best.size(); i++) {
                List<Step> candidate = new ArrayList<>(best);
                candidate.remove(i);
                if (fails(candidate)) {
                    best = candidate;
                    progress = true;
                    i--;
                }
            }
        }
        return best;
    }

    private static boolean fails(List<Step> steps) {
        try (SpanHeap heap = SpanHeap.create()) {
            return run(heap, steps, true) != null;
        }
    }

    @Test
    void randomFrameSequencesKeepEveryPromise() {
        long seed = Long.getLong("spanheap.seed", System.nanoTime());
        int tries = Integer.getInteger("spanheap.tries", 3000);
        System.out.println("StackArenaPropertyTest seed " + seed + " (replay with -Dspanheap.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        try (SpanHeap heap = SpanHeap.create()) {
            for (int t = 0; t < tries; t++) {
                List<Step> steps = generate(random, random.nextInt(1, 60));
                String problem = run(heap, steps, true);
                if (problem != null) {
                    List<Step> shortest = shrink(steps);
                    String shortProblem;
                    try (SpanHeap fresh = SpanHeap.create()) {
                        shortProblem = run(fresh, shortest, true);
                    }
                    fail("seed " + seed + ", sequence " + t + ": " + problem + "\nshrunk to " + shortest.size() + " steps "
                            + shortest + ": " + shortProblem);
                }
            }
        }
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
