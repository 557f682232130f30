package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link HeapPageSnapshot} against the heap it copies: each page's state and span, each span's
 * figures as the live {@link Span} holds them, and the per-state page counts the heap map and
 * report draw from.
 */
class HeapPageSnapshotTest {

    private static SpanHeap heap() {
        return SpanHeap.create(SpanHeapConfig.builder().shards(1).addressSpaceBytes(4L << 26).scavengerEnabled(false).build());
    }

    /**
     * One small span (its slots partly taken by the thread cache), one large object, a freed
     * large run (retained: used, not released), and the never-used rest of the arena (released).
     */
    @Test
    void pagesAndSpansOfAnArena() {
        try (SpanHeap heap = heap()) {
            long small = heap.allocateAddress(64);
            long large = heap.allocateAddress(100_000);
            long freed = heap.allocateAddress(50_000);
            Span smallSpan = heap.addressRange().spanAt(small);
            Span largeSpan = heap.addressRange().spanAt(large);
            int freedPages = heap.addressRange().spanAt(freed).pages;
            heap.freeAddress(freed);
            assertEquals(13, largeSpan.pages, "100,000 bytes in 8 KiB pages");
            assertEquals(7, freedPages, "50,000 bytes in 8 KiB pages");
            assertTrue(smallSpan.allocatedSlots > 0 && smallSpan.allocatedSlots < smallSpan.capacity, "a partly used span");

            HeapPageSnapshot snapshot = HeapPageSnapshot.take(heap);
            assertEquals(1, snapshot.arenas.size());
            HeapPageSnapshot.ArenaPages arena = snapshot.arenas.getFirst();
            assertEquals(heap.addressRange().arenas[0].base, arena.base());
            int smallPages = smallSpan.pages;
            assertEquals(13, arena.count(HeapPageSnapshot.LARGE));
            assertEquals(smallPages, arena.smallSpanPages());
            assertEquals(freedPages, arena.count(HeapPageSnapshot.CACHED), "the freed object is this thread's page cache's run");
            assertEquals(0, arena.count(HeapPageSnapshot.RETAINED));
            assertEquals(HeapArena.PAGES - 13 - smallPages - freedPages, arena.count(HeapPageSnapshot.RELEASED));
            assertEquals(0, arena.count((byte) 1), "no page of class 1");
            assertEquals(2, arena.spans().size());

            int smallPage = (int) ((smallSpan.start - arena.base()) >>> SizeClasses.PAGE_SHIFT);
            assertEquals(SizeClasses.classOf(64), arena.state()[smallPage]);
            HeapPageSnapshot.SpanInfo smallInfo = arena.spans().get(arena.span()[smallPage]);
            assertEquals(new HeapPageSnapshot.SpanInfo(smallSpan.start, smallPages, SizeClasses.classOf(64), smallSpan.allocatedSlots,
                    smallSpan.capacity, 0), smallInfo);
            assertEquals((double) smallSpan.allocatedSlots / smallSpan.capacity, smallInfo.fill());

            int largePage = (int) ((large - arena.base()) >>> SizeClasses.PAGE_SHIFT);
            assertEquals(HeapPageSnapshot.LARGE, arena.state()[largePage + 12]);
            assertEquals(arena.span()[largePage], arena.span()[largePage + 12]);
            HeapPageSnapshot.SpanInfo largeInfo = arena.spans().get(arena.span()[largePage]);
            assertEquals(new HeapPageSnapshot.SpanInfo(large, 13, 0, 1, 1, 100_000), largeInfo);
            assertEquals(1.0, largeInfo.fill());
            assertEquals(-1, arena.span()[largePage + 13], "the freed run after it");

            heap.freeAddress(small);
            heap.freeAddress(large);
        }
    }

    /** A large object of a whole arena: its span runs to the arena's last page, and every page is in it. */
    @Test
    void spanEndingAtTheArenasLastPage() {
        try (SpanHeap heap = heap()) {
            long whole = heap.allocateAddress(HeapArena.BYTES);
            HeapPageSnapshot snapshot = HeapPageSnapshot.take(heap);
            HeapPageSnapshot.ArenaPages arena = snapshot.arenas.stream().filter(a -> a.base() == whole).findFirst().orElseThrow();
            assertEquals(HeapArena.PAGES, arena.count(HeapPageSnapshot.LARGE));
            assertEquals(0, arena.smallSpanPages());
            assertEquals(java.util.List.of(new HeapPageSnapshot.SpanInfo(whole, HeapArena.PAGES, 0, 1, 1, HeapArena.BYTES)), arena.spans());
            assertEquals(0, arena.span()[HeapArena.PAGES - 1]);
            heap.freeAddress(whole);
        }
    }
}
