package dev.spanheap;

import dev.spanheap.testkit.Gen;
import dev.spanheap.testkit.PropertyRunner;
import java.util.ArrayList;
import java.util.List;

/**
 * One step of a model-based heap test, as plain data so that a sequence can be replayed, printed
 * and shrunk. {@code pick} chooses "which live (or freed) allocation" and is resolved modulo the
 * current count when the step runs, so deleting earlier steps never makes a later one invalid.
 *
 * @param kind      what to do
 * @param size      bytes to allocate or reallocate to
 * @param alignment alignment for {@link Kind#ALLOCATE} and {@link Kind#HANDOFF_ALLOCATE}
 * @param pick      which allocation a free, reallocate, hand-off or double free applies to
 * @param variant   a kind-specific switch: zeroed or uninitialized allocation, free by segment or by
 *                  address, hand-off to a platform or a virtual thread
 */
record HeapAction(Kind kind, long size, long alignment, int pick, boolean variant) {

    enum Kind {
        /** {@code allocate} (variant: {@code allocateUninitialized}). */
        ALLOCATE,
        /** {@code allocateAddress}, the raw path. */
        ALLOCATE_ADDRESS,
        /** Free a live allocation: {@code free(segment)} (variant: {@code freeAddress}). */
        FREE,
        /** {@code reallocate} a live segment to {@code size}. */
        REALLOCATE,
        /** Another thread (platform, or virtual when variant) allocates and writes, then hands the block over. */
        HANDOFF_ALLOCATE,
        /** Another thread (platform, or virtual when variant) checks and frees a live allocation. */
        HANDOFF_FREE,
        /** Free an allocation that is already free; must throw (checked mode, or a dedicated mapping). */
        DOUBLE_FREE,
        /** {@code flushCurrentThreadCache}: cached slots go back to their spans. */
        FLUSH,
        /** {@code releaseFreeMemory}, or (variant) one scavenger pass. */
        RELEASE
    }

    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long ARENA = 64 * MIB;

    static HeapAction allocate(long size, long alignment, boolean uninitialized) {
        return new HeapAction(Kind.ALLOCATE, size, alignment, 0, uninitialized);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case ALLOCATE -> (variant ? "allocateUninitialized(" : "allocate(") + size + ", " + alignment + ")";
            case ALLOCATE_ADDRESS -> "allocateAddress(" + size + ")";
            case FREE -> (variant ? "freeAddress" : "free") + "(live #" + pick + ")";
            case REALLOCATE -> "reallocate(live #" + pick + ", " + size + ")";
            case HANDOFF_ALLOCATE -> (variant ? "virtual" : "platform") + " thread: allocate(" + size + ", " + alignment + "), hand over";
            case HANDOFF_FREE -> (variant ? "virtual" : "platform") + " thread: check and free(live #" + pick + ")";
            case DOUBLE_FREE -> "free again(freed #" + pick + ")";
            case FLUSH -> "flushCurrentThreadCache()";
            case RELEASE -> variant ? "scavengeOnce()" : "releaseFreeMemory()";
        };
    }

    // ---------------------------------------------------------------- generation

    /** What a property lets its sequences do. */
    record Mix(int allocate, int allocateAddress, int free, int reallocate, int handOff, int doubleFree,
               int maintenance, double hugeChance, int maxLength) {
        /** The default mode mix: mostly allocate and free, some reallocation, raw and cross-thread traffic. */
        static final Mix DEFAULT = new Mix(40, 8, 34, 8, 6, 0, 4, 0.004, 90);
        /** Checked mode adds double frees, which it must always catch. */
        static final Mix CHECKED = new Mix(40, 8, 30, 8, 4, 6, 4, 0.004, 70);
        /** Near a heap limit: big requests are common, so that the limit is hit often. */
        static final Mix LIMITED = new Mix(45, 5, 35, 8, 3, 0, 4, 0.05, 60);
    }

    static List<HeapAction> sequence(Gen gen, Mix mix) {
        int length = gen.chance(0.2) ? gen.below(12) + 1 : gen.below(PropertyRunner.maxLength(mix.maxLength())) + 1;
        List<HeapAction> actions = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            actions.add(next(gen, mix));
        }
        return actions;
    }

    private static HeapAction next(Gen gen, Mix mix) {
        int choice = gen.weighted(mix.allocate(), mix.allocateAddress(), mix.free(), mix.reallocate(),
                mix.handOff(), mix.doubleFree(), mix.maintenance());
        return switch (choice) {
            case 0 -> allocate(size(gen, mix.hugeChance()), alignment(gen), gen.chance(0.15));
            case 1 -> new HeapAction(Kind.ALLOCATE_ADDRESS, Math.min(size(gen, 0), 2 * MIB), 8, 0, false);
            case 2 -> new HeapAction(Kind.FREE, 0, 0, gen.anyInt(), gen.chance(0.3));
            case 3 -> new HeapAction(Kind.REALLOCATE, Math.min(size(gen, 0), 4 * MIB), 8, gen.anyInt(), false);
            case 4 -> gen.chance(0.5)
                    ? new HeapAction(Kind.HANDOFF_ALLOCATE, Math.min(size(gen, 0), 4 * MIB), alignment(gen), 0, gen.chance(0.5))
                    : new HeapAction(Kind.HANDOFF_FREE, 0, 0, gen.anyInt(), gen.chance(0.5));
            case 5 -> new HeapAction(Kind.DOUBLE_FREE, 0, 0, gen.anyInt(), false);
            default -> gen.chance(0.6) ? new HeapAction(Kind.FLUSH, 0, 0, 0, false)
                    : new HeapAction(Kind.RELEASE, 0, 0, 0, gen.chance(0.5));
        };
    }

    /**
     * A realistic mix of request sizes: mostly small, with the edges where allocators break (0, 1,
     * each class's slot size and its neighbours, 32 KiB and its neighbours, page multiples), some
     * MiB-sized blocks, and rarely ({@code hugeChance}) the size of an arena or more, which takes a
     * whole arena or a mapping of its own.
     */
    static long size(Gen gen, double hugeChance) {
        if (gen.chance(hugeChance)) {
            return gen.pick(ARENA - 8 * KIB, ARENA - 1, ARENA, ARENA + 1, ARENA + gen.between(1, 16) * MIB);
        }
        return switch (gen.weighted(6, 3, 25, 30, 8, 8, 6, 3)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> {
                long slot = HeapProbe.slotSize(gen.below(HeapProbe.classCount() - 1) + 1);
                yield Math.max(0, slot + gen.between(-1, 1));
            }
            case 3 -> gen.between(1, 512);
            case 4 -> HeapProbe.MAX_SMALL_SIZE + gen.between(-1, 1);
            case 5 -> gen.between(1, 20) * HeapProbe.PAGE_BYTES + gen.between(-1, 1);
            case 6 -> gen.between(513, 40 * KIB);
            default -> gen.between(1, 6) * MIB + gen.between(-8, 8);
        };
    }

    /** Mostly the default 8, sometimes small powers of two, the page size, and rarely more. */
    static long alignment(Gen gen) {
        return switch (gen.weighted(60, 8, 20, 8, 3, 1)) {
            case 0 -> 8;
            case 1 -> gen.pick(1, 2, 4);
            case 2 -> gen.pick(16, 32, 64, 128, 256, 512, 1024);
            case 3 -> gen.pick(2048, 4096, 8192);
            case 4 -> 16 * KIB;
            default -> gen.pick(64 * KIB, MIB);
        };
    }

    // ---------------------------------------------------------------- shrinking

    /** Simpler versions of this action, tried in order while shrinking. */
    List<HeapAction> simpler() {
        List<HeapAction> out = new ArrayList<>();
        switch (kind) {
            case HANDOFF_ALLOCATE -> out.add(allocate(size, alignment, false));
            case HANDOFF_FREE -> out.add(new HeapAction(Kind.FREE, 0, 0, pick, false));
            case ALLOCATE_ADDRESS -> out.add(allocate(size, 8, true));
            default -> {
            }
        }
        if (variant && kind != Kind.RELEASE) {
            out.add(new HeapAction(kind, size, alignment, pick, false));
        }
        if (pick != 0) {
            out.add(new HeapAction(kind, size, alignment, 0, variant));
        }
        if (alignment > 8) {
            out.add(new HeapAction(kind, size, 8, pick, variant));
        }
        if (size > 8) {
            out.add(new HeapAction(kind, 8, alignment, pick, variant));
            out.add(new HeapAction(kind, size / 2, alignment, pick, variant));
            out.add(new HeapAction(kind, size - 1, alignment, pick, variant));
        }
        return out;
    }
}
