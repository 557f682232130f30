package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * An arena's dirty bits on their own (no memory behind it), against a {@link BitSet}; with them,
 * the summary of all-dirty words that lets {@link HeapArena#countDirty} skip its loop.
 */
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
            int change = random.nextInt(6);
            if (change < 2) {
                boolean value = change == 0;
                arena.setDirty(page, count, value);
                reference.set(page, page + count, value);
            } else if (change == 2) {
                // One clean page inside a dirty stretch: the word it is in stops being full.
                int hole = random.nextInt(HeapArena.PAGES);
                arena.setDirty(hole, 1, false);
                reference.clear(hole);
            }
            assertEquals(reference.get(page, page + count).cardinality(), arena.countDirty(page, count),
                    "seed " + seed + " step " + step + ": pages " + page + " + " + count);
            assertNull(arena.verifyDirtySummary(), "seed " + seed + " step " + step);
        }
    }

    /** A word made full behind the summary's back (and one emptied) is reported, naming the arena and the word. */
    @Test
    void aSummaryThatDisagreesWithTheBitsIsReported() {
        HeapArena arena = new HeapArena(3, 1L << 30, 0, null);
        arena.dirty[70] = -1L;
        String problem = arena.verifyDirtySummary();
        assertNotNull(problem);
        assertTrue(problem.contains("arena 3") && problem.contains("word 70") && problem.contains("not full"), problem);
        arena.dirty[70] = 0;
        assertNull(arena.verifyDirtySummary());
        arena.setDirty(64 * 5, 64, true);
        arena.dirty[5] = 1L;
        String stale = arena.verifyDirtySummary();
        assertNotNull(stale);
        assertTrue(stale.contains("word 5") && stale.contains("says full"), stale);
    }

    /**
     * The large-object case: a range whose inner words are all dirty is counted from the summary,
     * across the boundary between its two words (word 63 to word 64, pages 4032 to 4159), and one
     * clean page anywhere inside makes the count fall back to the words and still be exact.
     */
    @Test
    void fullInnerWordsAreCountedFromTheSummaryAndAHoleIsSeen() {
        assertEquals(2, HeapArena.PAGES / 64 / 64, "the summary's two-word case assumes 128 dirty words per arena");
        HeapArena arena = new HeapArena(0, 1L << 30, 0, null);
        arena.setDirty(0, 512, true);
        assertEquals(512, arena.countDirty(0, 512));
        assertEquals(300, arena.countDirty(5, 300));
        assertEquals(512 - 70, arena.countDirty(70, 1000));
        arena.setDirty(3900, 400, true);
        assertEquals(400, arena.countDirty(3900, 400));
        assertEquals(260, arena.countDirty(3970, 260));
        for (int hole : new int[] {600, 4095, 4096, 4100}) {
            HeapArena holed = new HeapArena(0, 1L << 30, 0, null);
            holed.setDirty(0, HeapArena.PAGES, true);
            holed.setDirty(hole, 1, false);
            assertEquals(HeapArena.PAGES - 1, holed.countDirty(0, HeapArena.PAGES), "hole at " + hole);
            assertEquals(999, holed.countDirty(hole - 500, 1000), "hole at " + hole);
            assertNull(holed.verifyDirtySummary());
            holed.setDirty(hole, 1, true);
            assertEquals(1000, holed.countDirty(hole - 500, 1000), "hole at " + hole + " filled again");
            assertNull(holed.verifyDirtySummary());
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
