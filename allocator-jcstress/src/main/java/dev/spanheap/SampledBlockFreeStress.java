package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A sampled block freed by another thread (docs/design.md, "Locking and memory ordering": the
 * sampled-span bit travels in the {@code pageInfo} entry that the free fast path reads without a
 * lock, and the heap profile's {@code Span.liveSamples} is read racily by the free slow path).
 * The profile samples every block (one byte between samples), so the allocating thread records
 * a sample of each 64 B block, under the profiler's and the page heap's locks, before it hands
 * the address over through a volatile field. The other thread then makes the two racy reads the
 * free makes, and frees the block. The claims: it sees the bit (so the free leaves the fast
 * path) and at least one live sample in the span (so the slow path drops the sample).
 *
 * <p>Each outcome is about this state's own block: many states' blocks are live at once in a
 * jcstress run, so a count over the whole profile would not say which free lost a sample.
 */
@JCStressTest
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "handed over: the free saw the sampled bit and the span's live sample")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the hand-off was not seen yet (the arbiter frees the block)")
@Outcome(expect = FORBIDDEN, desc = "a block handed over through a happens-before edge: its page-table entry without the sampled bit"
        + " (-1, _: the fast path would keep the sample), its span with no live sample (_, -1: the slow path would not drop it),"
        + " or the free refused (-2, _)")
@State
public class SampledBlockFreeStress {

    static final long BLOCK_BYTES = 64;
    static final SpanHeap HEAP = SpanHeap.create(SpanHeapConfig.builder().name("jcstress-sampled-free")
            .addressSpaceBytes(4L << 30).scavengerEnabled(false).profileSampleBytes(1).build());
    static final AddressRange RANGE = HEAP.addressRange();

    private volatile long handedOver;
    private long allocated;

    @Actor
    public void allocator() {
        long address = HEAP.allocateAddress(BLOCK_BYTES);
        allocated = address;
        handedOver = address;
    }

    @Actor
    public void freer(II_Result r) {
        long address = handedOver;
        if (address == 0) {
            return;
        }
        int entry = RANGE.pageInfo[(int) ((address - RANGE.base) >>> SizeClasses.PAGE_SHIFT)];
        r.r1 = (entry & PageHeap.SAMPLED_SPAN_BIT) != 0 ? 1 : -1;
        Span span = RANGE.spanAt(address);
        r.r2 = span != null && span.racyLiveSamples() > 0 ? 1 : -1;
        try {
            HEAP.freeAddress(address);
        } catch (RuntimeException refused) {
            r.r1 = -2;
        }
    }

    @Arbiter
    public void cleanUp(II_Result r) {
        if (r.r1 == 0) {
            HEAP.freeAddress(allocated);
        }
    }
}
