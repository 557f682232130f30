package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * Page table publication to the free fast path (docs/design.md, "Locking and memory ordering":
 * {@code pageInfo} entries are written under the owning page heap's lock and read without a lock
 * by {@code freeAddress}). One thread allocates a 32 KiB block (one slot per 4-page span, so the
 * spans, and their page-table entries, come and go all the time) and hands its address to another
 * thread through a volatile field, the happens-before edge any legal hand-off must have; that
 * thread frees it on the fast path. The claim: a block received that way is always found.
 */
@JCStressTest
@Outcome(id = "1", expect = ACCEPTABLE, desc = "handed over, and the free found the block's span through the page table")
@Outcome(id = "0", expect = ACCEPTABLE, desc = "the hand-off was not seen yet (the arbiter frees the block)")
@Outcome(id = "-1", expect = FORBIDDEN, desc = "a block handed over through a happens-before edge was refused: its page-table entries were not visible")
@State
public class PageTablePublicationStress {

    static final long BLOCK_BYTES = 32 << 10;
    static final SpanHeap HEAP = SharedFixtures.heap("jcstress-page-table");

    private volatile long handedOver;
    private long allocated;

    @Actor
    public void allocator() {
        long address = HEAP.allocateAddress(BLOCK_BYTES);
        allocated = address;
        handedOver = address;
    }

    @Actor
    public void freer(I_Result r) {
        long address = handedOver;
        if (address == 0) {
            r.r1 = 0;
            return;
        }
        try {
            HEAP.freeAddress(address);
            r.r1 = 1;
        } catch (RuntimeException refused) {
            r.r1 = -1;
        }
    }

    @Arbiter
    public void cleanUp(I_Result r) {
        if (r.r1 == 0) {
            HEAP.freeAddress(allocated);
        }
    }
}
