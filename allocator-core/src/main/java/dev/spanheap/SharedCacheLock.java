package dev.spanheap;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The lock of a thread cache shared by virtual threads (and by platform threads whose cache slot
 * is taken): one compare-and-set to take it, one release store to give it back. Each virtual
 * thread's allocation and free takes it, and it is rarely contended (the caches are picked by
 * CPU, see {@link ThreadCacheRegistry}), so its uncontended cost is what counts: a
 * {@code ReentrantLock} also writes and checks an owner field and gives the lock back with a
 * volatile store, a full fence on x86. A JFR profile of 1000 virtual threads on the mix to 2 MiB
 * had about a quarter of its samples in {@code ReentrantLock} (docs/benchmarks.md).
 *
 * <p>Contended (a carrier migrated mid-operation, or the holder blocked in a refill and was
 * unmounted), a taker spins briefly, then yields (a virtual thread gives its carrier to another,
 * which may be the holder), then parks for short periods. Not reentrant, no fairness, no
 * conditions: the shared caches need none of them.
 */
final class SharedCacheLock {

    private static final VarHandle HELD;
    private static final int SPINS = 64;
    private static final int YIELDS = 64;
    private static final long PARK_NANOS = 20_000;

    static {
        try {
            HELD = MethodHandles.lookup().findVarHandle(SharedCacheLock.class, "held", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through HELD
    private volatile int held;

    void lock() {
        if (!HELD.compareAndSet(this, 0, 1)) {
            lockContended();
        }
    }

    private void lockContended() {
        for (int attempt = 0; ; attempt++) {
            if ((int) HELD.getOpaque(this) == 0 && HELD.compareAndSet(this, 0, 1)) {
                return;
            }
            if (attempt < SPINS) {
                Thread.onSpinWait();
            } else if (attempt < SPINS + YIELDS) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(this, PARK_NANOS);
            }
        }
    }

    void unlock() {
        HELD.setRelease(this, 0);
    }

    /** Whether some thread holds the lock (racy; for assertions and tests). */
    boolean isLocked() {
        return (int) HELD.getOpaque(this) != 0;
    }
}
