package dev.spanheap.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded single-producer single-consumer queue of {@code long}s (a ring of a power-of-two
 * capacity), for handing addresses or batch numbers from one benchmark thread to another without
 * creating garbage.
 *
 * <p>Memory ordering: the producer writes the element, then publishes {@code tail} with a release
 * store; the consumer reads {@code tail} with an acquire load before reading the element, and
 * publishes {@code head} the same way. {@code tail} is written by the producer only, {@code head}
 * by the consumer only.
 */
final class SpscLongRing {

    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HEAD = lookup.findVarHandle(SpscLongRing.class, "head", long.class);
            TAIL = lookup.findVarHandle(SpscLongRing.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int SPINS_BEFORE_YIELD = 100;

    private final long[] elements;
    private final int mask;
    /** Next element to take; consumer only (read by the producer with acquire). */
    private volatile long head;
    private long producerPad1, producerPad2, producerPad3, producerPad4, producerPad5, producerPad6, producerPad7;
    /** Next free position; producer only (read by the consumer with acquire). */
    private volatile long tail;

    SpscLongRing(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two, was " + capacity);
        }
        elements = new long[capacity];
        mask = capacity - 1;
    }

    /** Producer: appends {@code value}; false if the ring is full. */
    boolean offer(long value) {
        long t = (long) TAIL.getOpaque(this);
        if (t - (long) HEAD.getAcquire(this) == elements.length) {
            return false;
        }
        elements[(int) t & mask] = value;
        TAIL.setRelease(this, t + 1);
        return true;
    }

    /** Consumer: the oldest value, or {@code empty} if there is none. */
    long poll(long empty) {
        long h = (long) HEAD.getOpaque(this);
        if (h == (long) TAIL.getAcquire(this)) {
            return empty;
        }
        long value = elements[(int) h & mask];
        HEAD.setRelease(this, h + 1);
        return value;
    }

    /**
     * One step of waiting for the other side: a spin hint for the first {@value #SPINS_BEFORE_YIELD}
     * steps, then a yield, so that a waiting thread gives its core to the thread it waits for when
     * the two share a core (two benchmark threads on a 2-core machine with anything else running).
     * Returns the next step count.
     */
    static int backOff(int spins) {
        if (spins < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
        return spins + 1;
    }

    /** Elements in the ring; exact only when neither side is running. */
    int size() {
        return (int) (tail - head);
    }
}
