package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The shared caches' own lock ({@link SharedCacheLock}; docs/design.md, "Locking and memory
 * ordering": a shared thread cache is guarded by its lock): a compare-and-set to take it, a
 * release store to give it back, no {@code java.util.concurrent} lock underneath. Two threads
 * each take it, read a plain counter, write it back plus one and let go. The claims: the two
 * critical sections never overlap, and the second sees the first one's write (the release store
 * of {@code unlock} pairs with the next taker's compare-and-set).
 */
@JCStressTest
@Outcome(id = {"0, 1", "1, 0"}, expect = ACCEPTABLE, desc = "one section after the other, the second saw the first's write")
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "both read 0: the sections overlapped, or the first's write was not visible to the second")
@Outcome(expect = FORBIDDEN, desc = "a value neither section can have written")
@State
public class SharedCacheLockStress {

    private final SharedCacheLock lock = new SharedCacheLock();
    private int counter;

    @Actor
    public void first(II_Result r) {
        r.r1 = increment();
    }

    @Actor
    public void second(II_Result r) {
        r.r2 = increment();
    }

    private int increment() {
        lock.lock();
        try {
            int seen = counter;
            counter = seen + 1;
            return seen;
        } finally {
            lock.unlock();
        }
    }
}
