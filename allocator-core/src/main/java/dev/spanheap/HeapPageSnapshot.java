package dev.spanheap;

import java.util.ArrayList;
import java.util.List;

/**
 * A copy of the state of every page of every arena, taken at one moment, for the heap map
 * ({@link HeapMapWriter}) and the per-arena lines of the report ({@link HeapReport}). Go has no
 * counterpart; it is what {@code runtime.ReadMemStats} would give per page.
 *
 * <p>Each page is one of: a page of a small span (with its size class), a page of a large object,
 * a free page that may still be resident ("retained": used since it was mapped or last released),
 * or a free page known to be zero and not resident ("released": never used, or released with
 * MADV_DONTNEED). Pages of the same span share a {@link SpanInfo}, so a picture can draw span
 * boundaries and how full each span is.
 *
 * <p>Taking one locks every central list in class order and then the page heap lock (the heap's
 * lock order), so the heap's slow paths wait for the copy, about a millisecond per arena; the
 * thread caches' fast paths do not. Slots held by thread caches count as allocated in their spans.
 */
final class HeapPageSnapshot {

    /** Page states in {@link ArenaPages#state}; values 1 to 67 are small spans of that class. */
    static final byte LARGE = 0;
    static final byte RETAINED = -1;
    static final byte RELEASED = -2;
    /** A free page of a run lent to a thread's {@link PageCache}. */
    static final byte CACHED = -3;

    /** One in-use span: where it starts, its class (0 = large) and how many of its slots are allocated. */
    record SpanInfo(long address, int pages, int sizeClass, int allocatedSlots, int capacity, long requestedBytes) {
        /** Allocated share of the span's slots, 1 for a large object. */
        double fill() {
            return capacity == 0 ? 1 : (double) allocatedSlots / capacity;
        }
    }

    /**
     * The pages of one arena: {@code state[p]} as above, and for a page in a span, {@code span[p]}
     * indexes {@link #spans} (-1 for a free page).
     */
    record ArenaPages(int index, long base, byte[] state, int[] span, List<SpanInfo> spans) {
        long count(byte wanted) {
            long n = 0;
            for (byte s : state) {
                if (s == wanted) {
                    n++;
                }
            }
            return n;
        }

        long smallSpanPages() {
            long n = 0;
            for (byte s : state) {
                if (s > 0) {
                    n++;
                }
            }
            return n;
        }
    }

    final List<ArenaPages> arenas;
    final int dedicatedObjects;
    final long dedicatedBytes;

    private HeapPageSnapshot(List<ArenaPages> arenas, int dedicatedObjects, long dedicatedBytes) {
        this.arenas = arenas;
        this.dedicatedObjects = dedicatedObjects;
        this.dedicatedBytes = dedicatedBytes;
    }

    static HeapPageSnapshot take(SpanHeap heap) {
        AddressRange range = heap.addressRange();
        DedicatedMappings.Snapshot dedicated = heap.dedicatedMappings().snapshot();
        return heap.centralLists().withEveryLock(() -> {
            List<ArenaPages> arenas = new ArrayList<>(range.arenaCount);
            for (int a = 0; a < range.arenaCount; a++) {
                arenas.add(copyArena(range.arenas[a]));
            }
            return new HeapPageSnapshot(List.copyOf(arenas), (int) dedicated.objects(), dedicated.mappedBytes());
        });
    }

    private static ArenaPages copyArena(HeapArena arena) {
        byte[] state = new byte[HeapArena.PAGES];
        int[] spanIndex = new int[HeapArena.PAGES];
        List<SpanInfo> spans = new ArrayList<>();
        int page = 0;
        while (page < HeapArena.PAGES) {
            Span span = arena.spans[page];
            if (span == null && arena.freeRunAtStart[page] < 0) {
                int length = Math.min(-arena.freeRunAtStart[page], HeapArena.PAGES - page);
                java.util.Arrays.fill(state, page, page + length, CACHED);
                java.util.Arrays.fill(spanIndex, page, page + length, -1);
                page += length;
                continue;
            }
            if (span == null) {
                state[page] = arena.isDirty(page) ? RETAINED : RELEASED;
                spanIndex[page] = -1;
                page++;
                continue;
            }
            SpanInfo info = span.isLarge()
                    ? new SpanInfo(span.start, span.pages, 0, 1, 1, span.requestedBytes)
                    : new SpanInfo(span.start, span.pages, span.sizeClass, span.allocatedSlots, span.capacity, 0);
            for (int i = 0; i < span.pages; i++) {
                state[page + i] = (byte) span.sizeClass;
                spanIndex[page + i] = spans.size();
            }
            spans.add(info);
            page += span.pages;
        }
        return new ArenaPages(arena.index, arena.base, state, spanIndex, List.copyOf(spans));
    }
}
