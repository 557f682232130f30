package dev.spanheap;

import java.util.ArrayList;
import java.util.List;

/**
 * The 67 small-object size classes and their lookup tables (Go's {@code sizeclasses.go}, generated
 * here at class-initialisation time rather than checked in).
 *
 * <p>The generator follows the rule Go documents: sizes step up from 8 bytes (step 8, then 16 from
 * 32, then size/8 from 128, then 256 from 2048); each size gets the fewest 8 KiB pages whose
 * leftover tail is at most 1/8 of the span; neighbours with the same page count and object count
 * merge into the larger size; finally each size grows to the largest multiple of 128 that still fits
 * the same number of objects. {@link #generate()} asserts the outcome: 67 classes, the largest
 * 32 KiB, tail waste at most 12.5% of a span, and worst-case total waste (rounding plus tail) under
 * 1/6 for classes above 128 bytes (below that the 8- and 16-byte steps bound it instead).
 *
 * <p>Lookups are O(1): sizes up to 1024 index {@link #SMALL_LOOKUP} by {@code (size + 7) / 8};
 * sizes up to 32 KiB index {@link #LARGE_LOOKUP} by {@code (size - 1024 + 127) / 128}.
 */
final class SizeClasses {

    /** Bytes in an allocator page. */
    static final int PAGE_SHIFT = 13;
    static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    static final long PAGE_MASK = PAGE_SIZE - 1;

    /** Largest size served from a size class; anything bigger takes whole pages. */
    static final int MAX_SMALL_SIZE = 32 << 10;
    static final int SMALL_LOOKUP_LIMIT = 1024;

    /** Class 0 is "not a small object"; classes 1..66 are real. */
    static final int CLASS_COUNT;
    static final int[] SLOT_SIZE;
    static final int[] SPAN_PAGES;
    static final int[] SLOTS_PER_SPAN;
    /**
     * Divisibility constants: {@code n % SLOT_SIZE[c] == 0} exactly when
     * {@code Long.compareUnsigned(n * DIVISIBILITY[c], DIVISIBILITY[c]) < 0}, for n below 2^32
     * (the "ceil(2^64/d)" remainder test), and then {@code n / SLOT_SIZE[c]} is the high 64
     * bits of {@code n * DIVISIBILITY[c]} ({@link Span#slotOf}). Class 0 holds 0, which makes
     * the test fail.
     */
    static final long[] DIVISIBILITY;
    /** Class for sizes 0..1024, indexed by {@code (size + 7) >>> 3}. */
    static final byte[] SMALL_LOOKUP;
    /** Class for sizes 1025..32768, indexed by {@code (size - 1024 + 127) >>> 7}. */
    static final byte[] LARGE_LOOKUP;
    /**
     * {@code ALIGNED_CLASS[k][c]}: the smallest class at or above c whose slot size is a multiple
     * of {@code 1 << k}, or 0 if none; for alignments 16 .. 8192 (k = 4 .. 13). A span starts on a
     * page boundary, so every slot of such a class is aligned.
     */
    static final byte[][] ALIGNED_CLASS;

    static {
        List<int[]> classes = generate();
        CLASS_COUNT = classes.size() + 1;
        SLOT_SIZE = new int[CLASS_COUNT];
        SPAN_PAGES = new int[CLASS_COUNT];
        SLOTS_PER_SPAN = new int[CLASS_COUNT];
        DIVISIBILITY = new long[CLASS_COUNT];
        for (int c = 1; c < CLASS_COUNT; c++) {
            SLOT_SIZE[c] = classes.get(c - 1)[0];
            SPAN_PAGES[c] = classes.get(c - 1)[1];
            SLOTS_PER_SPAN[c] = SPAN_PAGES[c] * PAGE_SIZE / SLOT_SIZE[c];
            DIVISIBILITY[c] = Long.divideUnsigned(-1L, SLOT_SIZE[c]) + 1;
        }
        SMALL_LOOKUP = new byte[SMALL_LOOKUP_LIMIT / 8 + 1];
        for (int i = 0; i < SMALL_LOOKUP.length; i++) {
            SMALL_LOOKUP[i] = (byte) firstClassHolding(i * 8);
        }
        LARGE_LOOKUP = new byte[(MAX_SMALL_SIZE - SMALL_LOOKUP_LIMIT + 127) / 128 + 1];
        for (int i = 0; i < LARGE_LOOKUP.length; i++) {
            LARGE_LOOKUP[i] = (byte) firstClassHolding(SMALL_LOOKUP_LIMIT + i * 128);
        }
        ALIGNED_CLASS = new byte[PAGE_SHIFT + 1][CLASS_COUNT];
        for (int k = 4; k <= PAGE_SHIFT; k++) {
            for (int c = 1; c < CLASS_COUNT; c++) {
                int found = 0;
                for (int d = c; d < CLASS_COUNT && found == 0; d++) {
                    if (SLOT_SIZE[d] % (1 << k) == 0) {
                        found = d;
                    }
                }
                ALIGNED_CLASS[k][c] = (byte) found;
            }
        }
    }

    private SizeClasses() {
    }

    /**
     * The size class for a request of {@code size} bytes, or 0 when it is not a small object
     * (bigger than 32 KiB, or negative: callers validate on their slow path). Size 0 maps to the
     * 8-byte class, so every allocation has a distinct address.
     */
    static int classOf(long size) {
        if (Long.compareUnsigned(size, SMALL_LOOKUP_LIMIT) <= 0) {
            return SMALL_LOOKUP[(int) (size + 7) >>> 3];
        }
        if (Long.compareUnsigned(size, MAX_SMALL_SIZE) <= 0) {
            return LARGE_LOOKUP[(int) (size - SMALL_LOOKUP_LIMIT + 127) >>> 7];
        }
        return 0;
    }

    /**
     * The size class for {@code size} bytes at {@code alignment} (a power of two), or 0 when only
     * whole pages can serve it.
     */
    static int classOf(long size, long alignment) {
        int c = classOf(size);
        if (alignment <= 8 || c == 0) {
            return c;
        }
        if (alignment > PAGE_SIZE) {
            return 0;
        }
        return ALIGNED_CLASS[Long.numberOfTrailingZeros(alignment)][c];
    }

    /** Whether {@code offset} (below 2^32) is a multiple of class {@code c}'s slot size; false for class 0. */
    static boolean isSlotMultiple(long offset, int c) {
        long d = DIVISIBILITY[c];
        return Long.compareUnsigned(offset * d, d) < 0;
    }

    private static int firstClassHolding(int size) {
        for (int c = 1; c < CLASS_COUNT; c++) {
            if (SLOT_SIZE[c] >= size) {
                return c;
            }
        }
        throw new IllegalStateException("no size class holds " + size + " bytes");
    }

    /**
     * Generates the class table as {slot size, pages per span} pairs and checks its goals.
     * Package-private so that a test can regenerate it and compare with Go's published table.
     */
    static List<int[]> generate() {
        List<int[]> classes = new ArrayList<>();
        int step = 8;
        for (int size = step; size <= MAX_SMALL_SIZE; size += step) {
            if (Integer.bitCount(size) == 1) {
                if (size >= 2048) {
                    step = 256;
                } else if (size >= 128) {
                    step = size / 8;
                } else if (size >= 32) {
                    step = 16;
                }
            }
            int spanBytes = PAGE_SIZE;
            while (spanBytes % size > spanBytes / 8) {
                spanBytes += PAGE_SIZE;
            }
            int pages = spanBytes / PAGE_SIZE;
            if (!classes.isEmpty()) {
                int[] previous = classes.getLast();
                if (previous[1] == pages && spanBytes / previous[0] == spanBytes / size) {
                    previous[0] = size;
                    continue;
                }
            }
            classes.add(new int[] {size, pages});
        }
        for (int[] c : classes) {
            int spanBytes = c[1] * PAGE_SIZE;
            int grown = (spanBytes / (spanBytes / c[0])) & ~127;
            if (grown > c[0]) {
                c[0] = grown;
            }
        }
        check(classes);
        return classes;
    }

    private static void check(List<int[]> classes) {
        if (classes.size() != 67) {
            throw new IllegalStateException("size-class generator made " + classes.size() + " classes, expected 67");
        }
        if (classes.getLast()[0] != MAX_SMALL_SIZE) {
            throw new IllegalStateException("largest class is " + classes.getLast()[0] + ", expected " + MAX_SMALL_SIZE);
        }
        int previousSize = 0;
        for (int[] c : classes) {
            int size = c[0];
            int spanBytes = c[1] * PAGE_SIZE;
            int tail = spanBytes % size;
            if (tail * 8 > spanBytes) {
                throw new IllegalStateException("class " + size + " wastes " + tail + " of " + spanBytes + " span bytes (> 12.5%)");
            }
            // Worst total waste: every slot holds a request one byte over the previous class, plus
            // the span's tail. Above 128 bytes the step rule keeps it under 1/6 (Go's table peaks
            // at 16.65%, class 4864); below, the 8- and 16-byte steps bound it instead.
            long worstWaste = (long) (size - previousSize - 1) * (spanBytes / size) + tail;
            if (previousSize >= 128 && worstWaste * 6 > spanBytes) {
                throw new IllegalStateException("class " + size + " after " + previousSize + " can waste "
                        + worstWaste + " of " + spanBytes + " span bytes (> 1/6)");
            }
            if (size % 8 != 0 || c[1] < 1 || c[1] > 10) {
                throw new IllegalStateException("class " + size + " with " + c[1] + " pages breaks the table's shape");
            }
            previousSize = size;
        }
    }
}
