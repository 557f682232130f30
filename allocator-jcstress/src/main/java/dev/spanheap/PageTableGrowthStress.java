package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Page table growth (docs/design.md: the {@code pageInfo} array is replaced by a longer copy under
 * the grow lock and every page heap lock, and read without a lock, both from the range and from
 * the facade's own copy that {@link AddressRange#pageInfoReplaced} keeps). One thread maps the
 * range's second arena, which replaces the array, then writes an entry for a page of the new arena
 * under the page heap's lock (as carving a span there does) and hands the page to another thread
 * through a volatile field. The claim: whoever received the page reads its entry, through the
 * range's array and through the facade's copy, never a stale shorter array or a lost entry.
 */
@JCStressTest
@Outcome(id = "-2, -2", expect = ACCEPTABLE, desc = "the hand-off was not seen yet")
@Outcome(id = "7, 7", expect = ACCEPTABLE, desc = "handed over: both arrays hold the entry written after the growth")
@Outcome(id = "-1, .*", expect = FORBIDDEN, desc = "the range's array seen after the hand-off is the old, shorter one")
@Outcome(id = ".*, -1", expect = FORBIDDEN, desc = "the facade's copy seen after the hand-off is the old, shorter one")
@Outcome(expect = FORBIDDEN, desc = "the entry written after the growth is lost (0) in an array seen after the hand-off")
@State
public class PageTableGrowthStress {

    static final int ENTRY = 7;
    /** A page of the second arena. */
    static final int PAGE = HeapArena.PAGES + 5;

    private final AddressRange range = SharedFixtures.rangeWithOneArena(Long.MAX_VALUE);
    /** Kept as SpanHeap keeps its copy for the free fast path. */
    private int[] facadeCopy = range.pageInfo;
    private volatile int handedOverPage = -1;

    public PageTableGrowthStress() {
        range.pageInfoReplaced = info -> this.facadeCopy = info;
    }

    @Actor
    public void grower() {
        PageHeap pageHeap = range.pageHeaps()[0];
        range.mapArena(pageHeap, "jcstress", 0);
        pageHeap.lock.lock();
        try {
            range.pageInfo[PAGE] = ENTRY;
        } finally {
            pageHeap.lock.unlock();
        }
        handedOverPage = PAGE;
    }

    @Actor
    public void reader(II_Result r) {
        int page = handedOverPage;
        if (page < 0) {
            r.r1 = -2;
            r.r2 = -2;
            return;
        }
        int[] fromRange = range.pageInfo;
        int[] fromFacade = facadeCopy;
        r.r1 = page < fromRange.length ? fromRange[page] : -1;
        r.r2 = page < fromFacade.length ? fromFacade[page] : -1;
    }

    @Arbiter
    public void unmap() {
        range.unmapAll();
    }
}
