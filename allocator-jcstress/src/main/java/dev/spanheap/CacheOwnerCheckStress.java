package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * The cache owner check (docs/design.md: {@code caches[]} entries are written under the registry
 * lock and read without it by the fast paths, where {@code cache.owner == Thread.currentThread()}
 * rejects an entry that is not the reader's). One thread installs its new cache in the table slot
 * that a second thread's lookup also reads (as two thread ids equal modulo the table size do),
 * the way {@link ThreadCacheRegistry#cacheForCurrentThread} does; the second runs the fast path's
 * lookup ({@link ThreadCacheRegistry#ownCache}'s code) on that slot, racily. The claim: the reader
 * never takes another thread's cache for its own, and never sees a cache without its owner (a
 * null owner would pass it off as a shared cache: {@code owner} is final, so it is set for anyone
 * who sees the cache).
 */
@JCStressTest
@Outcome(id = "0", expect = ACCEPTABLE, desc = "the entry is not seen yet")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "the other thread's cache is seen and rejected by the owner check")
@Outcome(id = "2", expect = FORBIDDEN, desc = "the other thread's cache passed the owner check")
@Outcome(id = "3", expect = FORBIDDEN, desc = "a cache was seen with its owner field still null")
@State
public class CacheOwnerCheckStress {

    private static final int SLOT = 17;
    private final ThreadCache[] caches = new ThreadCache[ThreadCacheRegistry.INDEX_MASK + 1];
    private final Object registryLock = new Object();

    @Actor
    public void registering() {
        ThreadCache mine = new ThreadCache(Thread.currentThread(), 0, 0);
        synchronized (registryLock) {
            caches[SLOT] = mine;
        }
    }

    @Actor
    public void lookingUp(I_Result r) {
        Thread me = Thread.currentThread();
        ThreadCache cache = caches[SLOT];
        if (cache == null) {
            r.r1 = 0;
        } else if (cache.owner == null) {
            r.r1 = 3;
        } else {
            r.r1 = cache.owner == me ? 2 : 1;
        }
    }
}
