package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The free-run index against a simple reference (a sorted map of runs): random inserts, removals,
 * coalescing and best-fit queries over three arenas, short and long runs mixed. Checked after every
 * step: best fit returns a run of the reference's shortest fitting length (and for long runs its
 * lowest address), counts, the longest run, and the lists' own links.
 */
class FreeRunIndexTest {

    private final AddressRange range = new AddressRange(SpanHeapConfig.builder().addressSpaceBytes(4 * HeapArena.BYTES).build());

    @AfterEach
    void unmap() {
        range.unmapAll();
    }

    /** The reference: free runs by (arena, start) -> length, and the model's best fit. */
    private static final class Reference {
        final TreeMap<Long, Integer> runs = new TreeMap<>(); // heap-global first page -> length

        int shortestFitting(long pages) {
            int best = Integer.MAX_VALUE;
            for (int length : runs.values()) {
                if (length >= pages && length < best) {
                    best = length;
                }
            }
            return best;
        }

        long lowestOfLength(int length) {
            return runs.entrySet().stream().filter(e -> e.getValue() == length).mapToLong(e -> e.getKey()).min().orElse(-1);
        }
    }

    @Test
    void randomOperationsAgreeWithAReference() {
        long seed = Long.getLong("spanheap.seed", System.nanoTime());
        Random random = new Random(seed);
        HeapArena[] arenas = new HeapArena[3];
        for (int a = 0; a < arenas.length; a++) {
            arenas[a] = new HeapArena(a, range.base + ((long) a << HeapArena.SHIFT), (long) a * HeapArena.PAGES, null);
            range.arenas[a] = arenas[a];
        }
        FreeRunIndex index = new FreeRunIndex(range);
        Reference reference = new Reference();
        // Pages in use are the complement of the runs; start with every arena one free run.
        for (HeapArena arena : arenas) {
            index.insert(arena, 0, HeapArena.PAGES, 0, 0);
            reference.runs.put(arena.firstPage, HeapArena.PAGES);
        }
        List<long[]> used = new ArrayList<>(); // {global first page, length}
        for (int step = 0; step < 20_000; step++) {
            String context = "seed " + seed + " step " + step;
            if (used.isEmpty() || random.nextInt(100) < 55) {
                long pages = random.nextInt(4) == 0 ? 1 + random.nextInt(600) : 1 + random.nextInt(20);
                long key = index.bestFit(pages);
                int expectedLength = reference.shortestFitting(pages);
                if (expectedLength == Integer.MAX_VALUE) {
                    assertEquals(FreeRunIndex.NONE, key, context);
                    continue;
                }
                assertEquals(expectedLength, FreeRunIndex.length(key), context + ": best fit for " + pages);
                long start = FreeRunIndex.start(key);
                if (expectedLength >= FreeRunIndex.SHORT_RUN_LIMIT) {
                    assertEquals(reference.lowestOfLength(expectedLength), start, context + ": lowest address among long runs");
                }
                assertEquals(expectedLength, reference.runs.remove(start), context);
                HeapArena arena = range.arenaOfPage(start);
                int local = (int) (start - arena.firstPage);
                // As PageHeap.carve does: the rest keeps its dirty pages, the pages taken become dirty.
                int rest = expectedLength - (int) pages;
                int restDirty = arena.freeRunDirty[local] - FreeRunIndex.dirtyPagesIn(arena, local, expectedLength, local, (int) pages);
                index.remove(arena, local, expectedLength);
                arena.setDirty(local, (int) pages, true);
                if (rest > 0) {
                    index.insert(arena, local + (int) pages, rest, restDirty, step);
                    reference.runs.put(start + pages, rest);
                }
                used.add(new long[] {start, pages});
            } else {
                long[] run = used.remove(random.nextInt(used.size()));
                HeapArena arena = range.arenaOfPage(run[0]);
                index.coalesceAndInsert(arena, (int) (run[0] - arena.firstPage), (int) run[1], (int) run[1], step);
                // The reference coalesces by hand, within the arena.
                long start = run[0];
                long length = run[1];
                Long before = reference.runs.floorKey(start - 1);
                if (before != null && before + reference.runs.get(before) == start && range.arenaOfPage(before) == arena) {
                    length += reference.runs.remove(before);
                    start = before;
                }
                Integer after = reference.runs.get(start + length);
                if (after != null && range.arenaOfPage(start + length) == arena) {
                    reference.runs.remove(start + length);
                    length += after;
                }
                reference.runs.put(start, (int) length);
            }
            assertEquals(reference.runs.size(), index.count(), context);
            assertEquals(reference.runs.values().stream().mapToLong(Integer::longValue).max().orElse(0), index.longestPages(), context);
            assertNull(index.verify(), context);
        }
        for (var e : reference.runs.entrySet()) {
            HeapArena arena = range.arenaOfPage(e.getKey());
            int local = (int) (e.getKey() - arena.firstPage);
            assertTrue(index.contains(arena, local, e.getValue()), "seed " + seed);
            assertEquals(arena.countDirty(local, e.getValue()), arena.freeRunDirty[local], "seed " + seed + ": dirty pages of the run at " + e.getKey());
        }
        long[] visited = {0};
        index.visitLongestFirst(key -> {
            visited[0]++;
            return true;
        });
        assertEquals(reference.runs.size(), visited[0], "every run visited once");
    }
}
