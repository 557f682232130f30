package dev.spanheap;

import dev.spanheap.testkit.PropertyRunner;
import org.junit.jupiter.api.Test;

/**
 * Model-based property tests: random sequences of allocations, frees, reallocations, raw-address
 * traffic and cross-thread hand-offs, each checked step by step against {@link HeapModel}. A
 * failure prints its seed and a shrunk sequence; replay with {@code -Dspanheap.seed=...}, search
 * longer with {@code -Dspanheap.tries=...} (see docs/testing.md).
 */
class HeapModelPropertyTest {

    private static final long GIB = 1L << 30;

    private static SpanHeapConfig.Builder quietHeap(String name) {
        // No scavenger thread: the model checks exact statistics between steps.
        return SpanHeapConfig.builder().name(name).scavengerEnabled(false);
    }

    /**
     * The default mode, which production uses: whatever the sequence, the heap's structures stay
     * consistent, blocks never overlap, contents survive, and the statistics count exactly.
     */
    @Test
    void defaultModeKeepsEveryInvariantAndAgreesWithTheModel() {
        SpanHeapConfig config = quietHeap("model-default").addressSpaceBytes(4 * GIB).build();
        check("defaultMode", 4000, HeapAction.Mix.DEFAULT, config);
    }

    /**
     * Checked mode (no thread caches, poisoned free slots) must keep the same invariants and, in
     * addition, reject every second free of a block at the call.
     */
    @Test
    void checkedModeKeepsEveryInvariantAndRejectsEveryDoubleFree() {
        SpanHeapConfig config = quietHeap("model-checked").addressSpaceBytes(4 * GIB).checked(true).build();
        check("checkedMode", 2000, HeapAction.Mix.CHECKED, config);
    }

    /**
     * Under a 40 MiB {@code maxHeapBytes}, requests fail only with an {@link OutOfMemoryError} that
     * the numbers justify and that names them, held memory never passes the limit, and the heap
     * goes on working after a refusal.
     */
    @Test
    void limitedHeapRefusesOnlyWhatWouldPassTheLimitAndStaysUsable() {
        SpanHeapConfig config = quietHeap("model-limited").addressSpaceBytes(GIB).maxHeapBytes(40L << 20).build();
        check("limitedHeap", 1500, HeapAction.Mix.LIMITED, config);
    }

    /**
     * A heap of only two arenas (128 MiB of address space): arena-sized requests exhaust it, and
     * the refusal must say so, leave the heap consistent, and pass once memory is freed.
     */
    @Test
    void smallAddressRangeRefusesCleanlyWhenFull() {
        SpanHeapConfig config = quietHeap("model-two-arenas").addressSpaceBytes(128L << 20).build();
        check("smallAddressRange", 1000, HeapAction.Mix.LIMITED, config);
    }

    private static void check(String property, int tries, HeapAction.Mix mix, SpanHeapConfig config) {
        new PropertyRunner<HeapAction>(
                HeapModelPropertyTest.class.getSimpleName() + "#" + property,
                tries,
                gen -> HeapAction.sequence(gen, mix),
                actions -> HeapModel.run(config, actions),
                HeapAction::simpler)
                .run();
        System.out.println("  exercised: " + HeapModel.COVERAGE);
        HeapModel.COVERAGE.clear();
    }

}
