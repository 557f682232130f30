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
 * The remote-free buffer's counters (docs/design.md: a cache's remote buffer is its owner's only;
 * statistics read {@link ThreadCache#remoteHeld} racily, and {@code remoteCount} is read racily
 * too). The owner frees two slots of another shard into its buffer
 * ({@link ThreadCache#pushRemote}, below the batch size, so nothing goes home); a statistics
 * reader reads the per-class count and the buffer's fill. The claim: only values the owner passed
 * through (0 to 2), and exact counts, frees included, at rest.
 */
@JCStressTest
@Outcome(id = "[0-2], [0-2], 1", expect = ACCEPTABLE, desc = "racy values the owner passed through; exact at rest")
@Outcome(expect = FORBIDDEN, desc = "a value the owner never wrote, or inexact counters at rest")
@State
public class RemoteBufferCountersStress {

    private static final int SIZE_CLASS = 5;
    private final ThreadCache cache = new ThreadCache(null, 0, 0);

    @Actor
    public void owner() {
        cache.pushRemote(SIZE_CLASS, 0x1000, null);
        cache.pushRemote(SIZE_CLASS, 0x2000, null);
    }

    @Actor
    public void statistics(III_Result r) {
        r.r1 = (int) cache.remoteHeld(SIZE_CLASS);
        r.r2 = cache.remoteCount;
    }

    @Arbiter
    public void atRest(III_Result r) {
        boolean exact = cache.remoteHeld(SIZE_CLASS) == 2 && cache.remoteCount == 2 && cache.frees(SIZE_CLASS) == 2;
        r.r3 = exact ? 1 : 0;
    }
}
