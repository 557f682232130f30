package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link LongTreeSet} against {@code java.util.TreeSet} as the model: random adds, removes and
 * queries, every answer compared, the tree's order, balance and size checked as it goes. Keys come
 * from small ranges (many duplicates and removals of present keys), wide ranges, and the page
 * heap's own shape ({@code length << 40 | page}). Seeded: the seed is printed; replay with
 * {@code -Dspanheap.seed=N}.
 */
class LongTreeSetTest {

    @Test
    void behavesLikeTreeSetUnderRandomOperations() {
        long seed = Long.getLong("spanheap.seed", System.nanoTime());
        System.out.println("LongTreeSetTest seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (int round = 0; round < 40; round++) {
            LongTreeSet set = new LongTreeSet();
            TreeSet<Long> model = new TreeSet<>();
            int shape = round % 3;
            for (int step = 0; step < 5_000; step++) {
                long value = switch (shape) {
                    case 0 -> random.nextLong(200);
                    case 1 -> random.nextLong(Long.MAX_VALUE);
                    default -> (random.nextLong(1, 8193) << 40) | random.nextLong(1 << 20);
                };
                String where = "seed " + seed + ", round " + round + ", step " + step + ", value " + value;
                int op = random.nextInt(10);
                if (op < 4) {
                    assertEquals(model.add(value), set.add(value), where + ": add");
                } else if (op < 7) {
                    // Half the removals aim at a present key (the nearest at or above, else the first).
                    long target = value;
                    if (!model.isEmpty() && random.nextBoolean()) {
                        Long ceiling = model.ceiling(value);
                        target = ceiling != null ? ceiling : model.first();
                    }
                    assertEquals(model.remove(target), set.remove(target), where + ": remove " + target);
                } else {
                    assertEquals(orNone(model.ceiling(value)), set.ceiling(value), where + ": ceiling");
                    assertEquals(orNone(model.higher(value)), set.higher(value), where + ": higher");
                    assertEquals(orNone(model.lower(value)), set.lower(value), where + ": lower");
                    assertEquals(model.contains(value), set.contains(value), where + ": contains");
                }
                assertEquals(model.size(), set.size(), where + ": size");
                if (step % 97 == 0) {
                    assertNull(set.verify(), where);
                    assertEquals(orNone(model.isEmpty() ? null : model.first()), set.first(), where + ": first");
                    assertEquals(orNone(model.isEmpty() ? null : model.last()), set.last(), where + ": last");
                }
            }
            assertNull(set.verify(), "seed " + seed + ", round " + round);
            long previous = LongTreeSet.NONE;
            for (long expected : model) {
                long next = previous == LongTreeSet.NONE ? set.first() : set.higher(previous);
                assertEquals(expected, next, "seed " + seed + ": ascending walk");
                previous = next;
            }
            assertEquals(LongTreeSet.NONE, previous == LongTreeSet.NONE ? set.first() : set.higher(previous));
        }
    }

    @Test
    void rejectsNegativeValuesAndAnswersNoneWhenEmpty() {
        LongTreeSet set = new LongTreeSet();
        assertThrows(IllegalArgumentException.class, () -> set.add(-5));
        assertEquals(LongTreeSet.NONE, set.ceiling(0));
        assertEquals(LongTreeSet.NONE, set.last());
        assertEquals(LongTreeSet.NONE, set.lower(Long.MAX_VALUE));
        assertEquals(LongTreeSet.NONE, set.higher(Long.MAX_VALUE));
        set.add(Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE, set.last());
        assertEquals(LongTreeSet.NONE, set.higher(Long.MAX_VALUE));
        assertFalse(set.remove(7), "removing an absent value");
        assertNull(set.verify());
    }

    private static long orNone(Long value) {
        return value == null ? LongTreeSet.NONE : value;
    }
}
