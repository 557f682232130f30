package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One page heap's releaser on its own: what each path releases and keeps, how it counts, and that
 * the run a scavenger pass holds out of the index stays part of the page heap's equations. The
 * race with allocations is {@code MemoryReturnTest}'s; refusals are {@code ReleaseRefusedTest}'s.
 */
class PageReleaserTest {

    private static final long PAGE = 1L << SizeClasses.PAGE_SHIFT;

    private AddressRange range;
    private PageHeap heap;

    @BeforeEach
    void newHeap() {
        range = new AddressRange(SpanHeapConfig.builder().addressSpaceBytes(HeapArena.BYTES).scavengerEnabled(false).build());
        heap = new PageHeap(0, range, false);
        range.setPageHeaps(new PageHeap[] {heap});
    }

    @AfterEach
    void unmap() {
        range.unmapAll();
    }

    private Span allocate(int pages) {
        return heap.allocateLarge(pages * PAGE, pages, 1);
    }

    private void free(Span span) {
        assertTrue(heap.freeLarge(range.arenaAt(span.start), span, span.start));
    }

    /**
     * Two free dirty runs, of {@code first} then {@code second} pages, each followed by a one-page
     * span that stays live, so that neither merges with the other or with the arena's clean tail;
     * returns the second run's first page.
     */
    private long twoFreeRuns(int first, int second) {
        Span a = allocate(first);
        allocate(1);
        Span c = allocate(second);
        allocate(1);
        long secondRun = c.firstPage;
        free(a);
        free(c);
        return secondRun;
    }

    /** The limit path keeps the run it is about to carve; everything else dirty goes, and is counted. */
    @Test
    void theSynchronousPathReleasesEveryDirtyRunButTheOneItKeeps() {
        long keptRun = twoFreeRuns(2, 3);
        assertEquals(7 * PAGE, range.heldBytes());
        heap.lock.lock();
        try {
            assertEquals(2 * PAGE, heap.releaser.releaseAllFree(keptRun),
                    "the first run's two pages; the second is kept and the arena's tail was never dirty");
        } finally {
            heap.lock.unlock();
        }
        PageHeap.Snapshot after = heap.snapshot();
        assertEquals(3, after.dirtyFreePages());
        assertEquals(2 * PAGE, after.releasedBytesTotal());
        assertEquals(0, after.releaseFailures());
        assertEquals(5 * PAGE, range.heldBytes());
        assertNull(heap.verify());
    }

    /**
     * While a pass releases a run without the lock, the run is out of the index but still counts
     * as free, and a neighbour freed meanwhile merges with it when it goes back.
     */
    @Test
    void aRunBeingReleasedStaysFreeAndGoesBackCoalesced() {
        Span a = allocate(4);
        Span b = allocate(1);
        allocate(1);
        free(a);
        int[] releases = {0};
        heap.releaser.whileReleasing = () -> {
            assertNull(heap.verify(), "the run in flight counts as free");
            if (releases[0]++ == 0) {
                assertEquals(1, heap.snapshot().freeRuns(), "only the arena's tail is in the index");
                free(b);
            }
        };
        assertEquals(5 * PAGE, heap.releaser.scavenge(0, 0, false), "a's pages, then b's with a in one run");
        assertEquals(2, releases[0]);
        PageHeap.Snapshot after = heap.snapshot();
        assertEquals(2, after.freeRuns(), "a + b, and the tail");
        assertEquals(0, after.dirtyFreePages());
        assertEquals(5 * PAGE, after.releasedBytesTotal());
        assertEquals(PAGE, range.heldBytes());
        assertNull(heap.verify());
    }

    /** A pass stops once dirty free memory is down to what it may retain, and skips runs not idle long enough. */
    @Test
    void aPassReleasesLongestFirstDownToWhatItRetainsAndOnlyIdleRuns() {
        twoFreeRuns(4, 2);
        assertEquals(0, heap.releaser.scavenge(0, Long.MAX_VALUE, false), "nothing has been free that long");
        assertEquals(4 * PAGE, heap.releaser.scavenge(2 * PAGE, 0, false), "the longer run, then 2 pages are retained");
        assertEquals(2, heap.snapshot().dirtyFreePages());
        assertEquals(2 * PAGE, heap.releaser.scavenge(0, 0, false));
        assertEquals(0, heap.snapshot().dirtyFreePages());
        assertNull(heap.verify());
    }
}
