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
 * The coarse clock (docs/design.md: {@link AddressRange#coarseNanos} is written by each scavenger
 * pass and read racily when a span is freed, to stamp its free run). The scavenger refreshes the
 * clock while a freeing thread reads it twice. The claim: each read is the old or the new value
 * (never a torn or made-up one), and a reader never sees it go back.
 */
@JCStressTest
@Outcome(id = {"0, 0", "0, 1", "1, 1"}, expect = ACCEPTABLE, desc = "old or new value, never going back")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "the clock went back for one reader")
@Outcome(expect = FORBIDDEN, desc = "a value that was never written")
@State
public class CoarseClockStress {

    private final AddressRange range = SharedFixtures.rangeWithOneArena(Long.MAX_VALUE);
    private final long before = range.coarseNanos();

    @Actor
    public void scavenger() {
        range.refreshCoarseClock();
    }

    @Actor
    public void freer(II_Result r) {
        r.r1 = classify(range.coarseNanos());
        r.r2 = classify(range.coarseNanos());
    }

    private int classify(long value) {
        return value == before ? 0 : value > before ? 1 : -1;
    }

    @Arbiter
    public void unmap() {
        range.unmapAll();
    }
}
