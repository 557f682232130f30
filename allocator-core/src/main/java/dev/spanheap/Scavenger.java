package dev.spanheap;

import java.util.concurrent.locks.LockSupport;

/**
 * The background scavenger: a daemon platform thread that returns free pages to the OS; Go's
 * background scavenger. Every {@link #PERIOD_NANOS} it runs {@link SpanHeap#scavengeOnce()}:
 * reclaims the caches of ended threads and, when free pages that may be resident exceed
 * {@link SpanHeapConfig#scavengerRetainRatio()} of the memory in use, releases free runs idle for
 * at least {@link SpanHeapConfig#scavengerDelay()}, longest first, with MADV_DONTNEED. With
 * {@code maxHeapBytes} set it also keeps held memory under 95% of the limit, and once above that
 * goal it releases free runs without waiting for them to go idle.
 *
 * <p>Cost at rest: one wake-up per period that takes the registry lock (to look for ended threads)
 * and the page heap lock for a few reads; measured at about 1.4 ms of CPU over 2 s (0.07% of a
 * core) by {@code MemoryReturnTest.idleScavengerCostsLittleCpu}. Started on the heap's first trip
 * to its central lists or page heap, stopped (and joined) by {@link SpanHeap#close()}. The thread
 * holds the heap strongly: a heap that is dropped without {@code close()} keeps its scavenger.
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
