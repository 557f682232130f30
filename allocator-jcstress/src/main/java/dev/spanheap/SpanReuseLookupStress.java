package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Span identity fields under reuse (docs/design.md: {@link Span#init} writes them under the owning
 * page heap's lock before the span is published; racy lookups re-check under a lock). The page
 * heap frees a span (clears its page-table slot) and re-initialises the same structure from its
 * pool for other pages, all under its lock, as {@code freeSpan} and {@code allocateRun} do;
 * meanwhile a racy lookup (as {@link AddressRange#spanAt} does) reads the old slot and the span's
 * identity without the lock, then re-checks under the lock as {@link PageHeap#freeLarge} does.
 * The claim: what the racy read sees may be stale or even a mix of the old and new identity (that
 * is why the re-check exists), but the re-check under the lock accepts the span only while it
 * still is the old, in-use span at that slot.
 */
@JCStressTest
@Outcome(id = "0, -1", expect = ACCEPTABLE, desc = "the slot was already cleared: nothing found")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "old span seen, and still valid under the lock (the lookup came first)")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "old span seen, rejected by the re-check: it was freed meanwhile")
@Outcome(id = {"2, 0", "3, 0"}, expect = ACCEPTABLE_INTERESTING,
        desc = "the racy read saw the reused span's new (or a mixed) identity through the stale slot; the re-check rejected it")
@Outcome(id = {"2, 1", "3, 1"}, expect = FORBIDDEN, desc = "the re-check accepted a span that had been reused")
@Outcome(id = ".*, 2", expect = FORBIDDEN, desc = "the re-check under the lock saw a torn identity")
@State
public class SpanReuseLookupStress {

    private static final long OLD_START = 1L << 40;
    private static final long NEW_START = (1L << 40) + (64L << 13);
    private final Span[] pageTable = new Span[2];
    private final ReentrantLock pageHeapLock = new ReentrantLock();

    public SpanReuseLookupStress() {
        pageTable[0] = new Span(OLD_START, 0, 1, 0, false, false);
    }

    @Actor
    public void pageHeap() {
        pageHeapLock.lock();
        try {
            Span span = pageTable[0];
            pageTable[0] = null;
            span.inUse = false;
            span.init(NEW_START, 64, 3, 0, true);
            pageTable[1] = span;
        } finally {
            pageHeapLock.unlock();
        }
    }

    @Actor
    public void lookup(II_Result r) {
        Span span = pageTable[0];
        if (span == null) {
            r.r1 = 0;
            r.r2 = -1;
            return;
        }
        r.r1 = identity(span.start, span.pages, span.firstPage);
        pageHeapLock.lock();
        try {
            boolean valid = pageTable[0] == span && span.inUse;
            int underLock = identity(span.start, span.pages, span.firstPage);
            r.r2 = !valid ? 0 : underLock == 1 ? 1 : 2;
        } finally {
            pageHeapLock.unlock();
        }
    }

    /** 1: the old identity, 2: the new one, 3: a mix of both. */
    private static int identity(long start, int pages, long firstPage) {
        if (start == OLD_START && pages == 1 && firstPage == 0) {
            return 1;
        }
        if (start == NEW_START && pages == 3 && firstPage == 64) {
            return 2;
        }
        return 3;
    }
}
