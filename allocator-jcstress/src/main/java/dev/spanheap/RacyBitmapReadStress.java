package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * The opaque bitmap read of the free slow path's double-free check (docs/design.md: a span's
 * bitmap is guarded by its central list's lock, and {@link Span#isAllocatedRacy} reads a word of
 * it without the lock). One thread takes a slot under the list's lock and hands it to another
 * thread through a volatile field (a legal free was handed its slot after the bit was set), then
 * takes and returns the next slot of the same bitmap word under the lock, as other allocations
 * and frees of the span do while the receiver reads (two actors: the machine has two CPUs, and
 * jcstress runs a test only with a CPU per actor). The claim: the receiver reads its slot as allocated, whatever the neighbouring bits do, so a
 * legal free is never reported as a double free.
 */
@JCStressTest
@Outcome(id = "-1", expect = ACCEPTABLE, desc = "the hand-off was not seen yet")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "the slot received reads as allocated")
@Outcome(id = "0", expect = FORBIDDEN, desc = "a slot received after its bit was set reads as free: a legal free would be called a double free")
@State
public class RacyBitmapReadStress {

    private final Span span = new Span(1L << 40, 0, 1, 1, false, false);
    private final ReentrantLock listLock = new ReentrantLock();
    private volatile int handedOverSlot = -1;

    @Actor
    public void allocator() {
        int slot;
        listLock.lock();
        try {
            slot = span.takeSlot();
        } finally {
            listLock.unlock();
        }
        handedOverSlot = slot;
        listLock.lock();
        try {
            span.returnSlot(span.takeSlot());
        } finally {
            listLock.unlock();
        }
    }

    @Actor
    public void freer(I_Result r) {
        int slot = handedOverSlot;
        r.r1 = slot < 0 ? -1 : (span.isAllocatedRacy(slot) ? 1 : 0);
    }
}
