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
 * Held bytes and the limit (docs/design.md: held bytes are one atomic in the range, and
 * {@link AddressRange#tryHold} enforces {@code maxHeapBytes} with a CAS loop, no lock). Two page
 * heaps' threads each try to hold 40 MiB under a 64 MiB limit. The claim: exactly one succeeds
 * (the limit is never passed, and a request that fits is not refused), and the count is exact.
 */
@JCStressTest
@Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "one holds, the other is refused; held bytes exact")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "both held: the limit was passed")
@Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "both refused although one fits")
@Outcome(expect = FORBIDDEN, desc = "held bytes inexact at rest")
@State
public class HeldBytesLimitStress {

    private static final long LIMIT = 64L << 20;
    private static final long REQUEST = 40L << 20;
    private final AddressRange range = SharedFixtures.rangeWithOneArena(LIMIT);

    @Actor
    public void firstPageHeap(III_Result r) {
        r.r1 = range.tryHold(REQUEST) ? 1 : 0;
    }

    @Actor
    public void secondPageHeap(III_Result r) {
        r.r2 = range.tryHold(REQUEST) ? 1 : 0;
    }

    @Arbiter
    public void atRest(III_Result r) {
        r.r3 = range.heldBytes() == (long) (r.r1 + r.r2) * REQUEST ? 1 : 0;
        range.unmapAll();
    }
}
