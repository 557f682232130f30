package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * Two frees of one large object at once (docs/design.md, "Large objects off the lock"): one
 * thread frees it into its {@link LargeRunCache} (state {@code LARGE_LIVE -> LARGE_CACHED}), the
 * other to the page heap ({@code LARGE_LIVE -> LARGE_FREEING}), both without a lock, as
 * {@code SpanHeap.freeLargeObject} does. The claim: exactly one of them wins, so a run can never
 * be both cached and freed (or cached twice) and handed out twice; the loser reports a double free.
 */
@JCStressTest
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "the cache's free won; the other was refused")
@Outcome(id = "0, 1, 2", expect = ACCEPTABLE, desc = "the page heap's free won; the other was refused")
@Outcome(expect = FORBIDDEN, desc = "both frees succeeded, or neither did, or the state does not match the winner")
@State
public class LargeFreeRaceStress {

    private final Span span = new Span(1L << 40, 0, 8, 0, false, false);

    @Actor
    public void freeIntoCache(III_Result r) {
        r.r1 = span.moveLargeState(Span.LARGE_LIVE, Span.LARGE_CACHED) ? 1 : 0;
    }

    @Actor
    public void freeToPageHeap(III_Result r) {
        r.r2 = span.moveLargeState(Span.LARGE_LIVE, Span.LARGE_FREEING) ? 1 : 0;
    }

    @Arbiter
    public void state(III_Result r) {
        r.r3 = span.largeState();
    }
}
