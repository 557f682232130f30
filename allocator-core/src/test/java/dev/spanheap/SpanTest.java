package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A span's slot bitmap, its counts and its needzero mark, on its own (no memory behind it). */
class SpanTest {

    private static Span span(int sizeClass, boolean dirty) {
        return new Span(1L << 30, 0, SizeClasses.SPAN_PAGES[sizeClass], sizeClass, dirty, false);
    }

    @Test
    void slotsAreTakenLowestFirstUntilFull() {
        Span s = span(1, false);
        assertEquals(1024, s.capacity);
        for (int i = 0; i < s.capacity; i++) {
            assertEquals(i, s.takeSlot());
        }
        assertTrue(s.isFull());
        s.inPartialList = false;
        assertNull(s.verify());
    }

    @Test
    void aReturnedSlotIsTheNextOneTaken() {
        Span s = span(5, false);
        for (int i = 0; i < 100; i++) {
            s.takeSlot();
        }
        s.returnSlot(37);
        s.returnSlot(90);
        assertEquals(37, s.takeSlot());
        assertEquals(90, s.takeSlot());
        assertEquals(100, s.takeSlot());
    }

    @Test
    void slotOfAcceptsOnlySlotStartsInsideTheSlotArea() {
        int sizeClass = SizeClasses.classOf(48);
        Span s = span(sizeClass, false);
        assertEquals(0, s.slotOf(s.start));
        assertEquals(3, s.slotOf(s.start + 3 * 48));
        assertEquals(-1, s.slotOf(s.start + 3 * 48 + 8));
        assertEquals(-1, s.slotOf(s.start - 48));
        assertEquals(-1, s.slotOf(s.start + (long) s.capacity * 48), "the tail after the last slot is not a slot");
    }

    /** Every byte of every class's span, against the division slotOf no longer does. */
    @Test
    void slotOfAgreesWithDivisionAtEveryOffsetOfEveryClass() {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            Span s = span(c, false);
            long spanBytes = s.bytes();
            for (long offset = 0; offset < spanBytes; offset++) {
                boolean inSlotArea = offset < (long) s.capacity * s.slotSize;
                int expected = inSlotArea && offset % s.slotSize == 0 ? (int) (offset / s.slotSize) : -1;
                if (s.slotOf(s.start + offset) != expected) {
                    assertEquals(expected, s.slotOf(s.start + offset), "class " + c + " (" + s.slotSize + " B) at offset " + offset);
                }
            }
        }
    }

    @Test
    void needzeroMarksOnlyNeverUsedSlotsOfACleanSpan() {
        Span clean = span(3, false);
        int a = clean.takeSlot();
        assertTrue(clean.takeIsZero(a));
        int b = clean.takeSlot();
        assertTrue(clean.takeIsZero(b));
        clean.returnSlot(a);
        int again = clean.takeSlot();
        assertEquals(a, again);
        assertFalse(clean.takeIsZero(again), "a slot handed out before is dirty");
        int c = clean.takeSlot();
        assertTrue(clean.takeIsZero(c));

        Span dirty = span(3, true);
        assertFalse(dirty.takeIsZero(dirty.takeSlot()), "reused pages: nothing is known to be zero");
    }

    @Test
    void randomTakeAndReturnAgreesWithAModelBitSet() {
        long seed = Long.getLong("spanheap.seed", System.nanoTime());
        Random random = new Random(seed);
        for (int sizeClass = 1; sizeClass < SizeClasses.CLASS_COUNT; sizeClass += 5) {
            Span s = span(sizeClass, false);
            BitSet model = new BitSet();
            for (int step = 0; step < 5000; step++) {
                if (!s.isFull() && (model.isEmpty() || random.nextBoolean())) {
                    int slot = s.takeSlot();
                    assertEquals(model.nextClearBit(0), slot, "seed " + seed + ": lowest free slot first");
                    model.set(slot);
                } else if (!model.isEmpty()) {
                    int victim = model.nextSetBit(random.nextInt(s.capacity));
                    if (victim < 0) {
                        victim = model.nextSetBit(0);
                    }
                    s.returnSlot(victim);
                    model.clear(victim);
                }
                assertEquals(model.cardinality(), s.allocatedSlots);
                s.inPartialList = !s.isFull();
                assertNull(s.verify(), "seed " + seed);
            }
        }
    }
}
