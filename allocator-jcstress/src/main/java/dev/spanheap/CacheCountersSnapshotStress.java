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
 * Statistics snapshot reads of a thread cache (docs/design.md: a cache is its owner's only;
 * {@code stats()} reads its counters racily, exact at rest). The owner pushes two slots of one
 * class and pops one, as the fast paths do; a statistics reader reads the count and the pops the
 * way {@link ThreadCacheRegistry#snapshotLocked} does. The claim: a racy reader sees only values
 * the owner really passed through (count 0 to 2, pops 0 or 1: the packed state word is never seen
 * torn or made up), and once the owner is done (the arbiter) the counters are exact.
 */
@JCStressTest
@Outcome(id = "[0-2], [01], 1", expect = ACCEPTABLE, desc = "racy values the owner passed through; exact at rest")
@Outcome(expect = FORBIDDEN, desc = "a value the owner never wrote, or inexact counters at rest")
@State
public class CacheCountersSnapshotStress {

    private static final int SIZE_CLASS = 3;
    private final ThreadCache cache = new ThreadCache(null, 0, 0);

    @Actor
    public void owner() {
        cache.push(SIZE_CLASS, 0x1000);
        cache.push(SIZE_CLASS, 0x2000);
        cache.pop(SIZE_CLASS);
    }

    @Actor
    public void statistics(III_Result r) {
        r.r1 = cache.count(SIZE_CLASS);
        r.r2 = (int) cache.pops(SIZE_CLASS);
    }

    @Arbiter
    public void atRest(III_Result r) {
        boolean exact = cache.count(SIZE_CLASS) == 1 && cache.pops(SIZE_CLASS) == 1 && cache.frees(SIZE_CLASS) == 2;
        r.r3 = exact ? 1 : 0;
    }
}
