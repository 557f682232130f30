package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** An arena's dirty bits on their own (no memory behind it), against a {@link BitSet}. */
class HeapArenaTest {

    @Test
    void countDirtyAgreesWithABitSetOverRandomRanges() {
        long seed = Long.getLong("spanheap.seed", System.nanoTime());
        Random random = new Random(seed);
        HeapArena arena = new HeapArena(0, 1L << 30, 0, null);
        BitSet reference = new BitSet(HeapArena.PAGES);
        for (int step = 0; step < 20_000; step++) {
            int page = random.nextInt(HeapArena.PAGES);
            // Mostly short ranges, some across many words, some of exactly one word's bits.
            int count = switch (random.nextInt(4)) {
                case 0 -> random.nextInt(64 + 1);
                case 1 -> 64 - (page & 63);
                default -> random.nextInt(HeapArena.PAGES - page + 1);
            };
            count = Math.min(count, HeapArena.PAGES - page);
            if (random.nextInt(3) == 0) {
                boolean value = random.nextBoolean();
                arena.setDirty(page, count, value);
                reference.set(page, page + count, value);
            }
            assertEquals(reference.get(page, page + count).cardinality(), arena.countDirty(page, count),
                    "seed " + seed + " step " + step + ": pages " + page + " + " + count);
        }
    }

    @Test
    void anEmptyRangeCountsNothingEvenAtAWordBoundaryOfDirtyPages() {
        HeapArena arena = new HeapArena(0, 1L << 30, 0, null);
        arena.setDirty(0, HeapArena.PAGES, true);
        for (int page : new int[] {0, 1, 63, 64, 128, HeapArena.PAGES - 64, HeapArena.PAGES - 1}) {
            assertEquals(0, arena.countDirty(page, 0), "0 pages from page " + page);
            assertEquals(1, arena.countDirty(page, 1), "1 page from page " + page);
        }
        assertEquals(HeapArena.PAGES, arena.countDirty(0, HeapArena.PAGES));
    }
}
