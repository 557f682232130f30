package dev.spanheap;

import java.util.concurrent.locks.LockSupport;

/**
 * The background scavenger: a daemon platform thread that returns free pages to the OS; Go's
 * background scavenger. Every {@link #PERIOD_NANOS} it reclaims the caches of ended threads and,
 * when free pages that may be resident exceed {@link SpanHeapConfig#scavengerRetainRatio()} of the
 * memory in use (or the heap nears {@code maxHeapBytes}), releases free runs idle for at least
 * {@link SpanHeapConfig#scavengerDelay()}, longest first.
 *
 * <p>Cost at rest: one wake-up per period that takes the page heap lock for a few reads. Started on
 * the heap's first trip to its central lists or page heap, stopped by {@link SpanHeap#close()}.
 */
final class Scavenger implements Runnable {

    static final long PERIOD_NANOS = 250_000_000L;

    private final SpanHeap heap;
    private final Object startLock = new Object();
    /** Guarded by startLock; read racily as a fast check. */
    private volatile Thread thread;
    private volatile boolean stopping;

    Scavenger(SpanHeap heap) {
        this.heap = heap;
    }

    void ensureStarted() {
        if (thread != null) {
            return;
        }
        synchronized (startLock) {
            if (thread == null && !stopping) {
                Thread t = Thread.ofPlatform().daemon().name("spanheap-scavenger-" + heap.config().name()).unstarted(this);
                thread = t;
                t.start();
            }
        }
    }

    void stop() {
        Thread t;
        synchronized (startLock) {
            stopping = true;
            t = thread;
        }
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void run() {
        while (!stopping) {
            LockSupport.parkNanos(this, PERIOD_NANOS);
            if (stopping) {
                return;
            }
            try {
                heap.scavengeOnce();
            } catch (IllegalStateException closedMeanwhile) {
                return;
            } catch (RuntimeException | Error e) {
                // A failed madvise must not kill the thread silently: report once and keep going.
                System.getLogger("dev.spanheap").log(System.Logger.Level.WARNING, "scavenger pass failed", e);
            }
        }
    }
}
