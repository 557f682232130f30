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
        check("defaultMode", 4000, HeapAction.Mix.DEFAULT, config, "large objects", "hand-off: platform threads",
                "hand-off: virtual threads", "reallocate: moved", "reallocate: in place");
    }

    /**
     * Checked mode (no thread caches, poisoned free slots) must keep the same invariants and, in
     * addition, reject every second free of a block at the call.
     */
    @Test
    void checkedModeKeepsEveryInvariantAndRejectsEveryDoubleFree() {
        SpanHeapConfig config = quietHeap("model-checked").addressSpaceBytes(4 * GIB).checked(true).build();
        check("checkedMode", 2000, HeapAction.Mix.CHECKED, config, "double frees caught", "large objects");
    }

    /**
     * Under a 40 MiB {@code maxHeapBytes}, requests fail only with an {@link OutOfMemoryError} that
     * the numbers justify and that names them, held memory never passes the limit, and the heap
     * goes on working after a refusal.
     */
    @Test
    void limitedHeapRefusesOnlyWhatWouldPassTheLimitAndStaysUsable() {
        SpanHeapConfig config = quietHeap("model-limited").addressSpaceBytes(GIB).maxHeapBytes(40L << 20).build();
        check("limitedHeap", 1500, HeapAction.Mix.LIMITED, config, "refused: maxHeapBytes");
    }

    /**
     * A heap of only two arenas (128 MiB of address space): arena-sized requests exhaust it, and
     * the refusal must say so, leave the heap consistent, and pass once memory is freed.
     */
    @Test
    void smallAddressRangeRefusesCleanlyWhenFull() {
        SpanHeapConfig config = quietHeap("model-two-arenas").addressSpaceBytes(128L << 20).build();
        check("smallAddressRange", 1000, HeapAction.Mix.LIMITED, config, "refused: address range full");
    }

    /**
     * Runs the property, then checks that the generator really exercised what the property is
     * about: at least {@link #MIN_PER_ACTION} of every action kind the mix gives a weight to, and at
     * least one of each event named in {@code events} (a generator that stopped producing frees,
     * or a limit never reached, fails here instead of passing quietly).
     */
    private static void check(String property, int tries, HeapAction.Mix mix, SpanHeapConfig config, String... events) {
        HeapModel.COVERAGE.clear();
        HeapModel.PEAK_HELD.reset();
        HeapModel.PEAK_LIVE_BYTES.reset();
        HeapModel.PEAK_LIVE_OBJECTS.reset();
        new PropertyRunner<HeapAction>(
                HeapModelPropertyTest.class.getSimpleName() + "#" + property,
                tries,
                gen -> HeapAction.sequence(gen, mix),
                actions -> HeapModel.run(config, actions),
                HeapAction::simpler)
                .run();
        System.out.println("  exercised: " + HeapModel.COVERAGE);
        System.out.println("  peaks: held " + HeapModel.PEAK_HELD.get() + " bytes, live " + HeapModel.PEAK_LIVE_BYTES.get()
                + " bytes in " + HeapModel.PEAK_LIVE_OBJECTS.get() + " objects");
        java.util.Map<HeapAction.Kind, Integer> weights = new java.util.EnumMap<>(HeapAction.Kind.class);
        weights.put(HeapAction.Kind.ALLOCATE, mix.allocate());
        weights.put(HeapAction.Kind.ALLOCATE_ADDRESS, mix.allocateAddress());
        weights.put(HeapAction.Kind.FREE, mix.free());
        weights.put(HeapAction.Kind.REALLOCATE, mix.reallocate());
        weights.put(HeapAction.Kind.HANDOFF_ALLOCATE, mix.handOff());
        weights.put(HeapAction.Kind.HANDOFF_FREE, mix.handOff());
        weights.put(HeapAction.Kind.DOUBLE_FREE, mix.doubleFree());
        weights.put(HeapAction.Kind.FLUSH, mix.maintenance());
        weights.put(HeapAction.Kind.RELEASE, mix.maintenance());
        for (var weight : weights.entrySet()) {
            if (weight.getValue() > 0) {
                long done = exercised("action " + weight.getKey());
                org.junit.jupiter.api.Assertions.assertTrue(done >= MIN_PER_ACTION,
                        property + ": only " + done + " " + weight.getKey() + " actions ran (at least " + MIN_PER_ACTION + " expected)");
            }
        }
        for (String event : events) {
            org.junit.jupiter.api.Assertions.assertTrue(exercised(event) > 0, property + ": no '" + event + "' in " + HeapModel.COVERAGE);
        }
        HeapModel.COVERAGE.clear();
    }

    /** Fewest actions of a kind the mix weights that a property's run must carry out. */
    private static final long MIN_PER_ACTION = 100;

    private static long exercised(String what) {
        java.util.concurrent.atomic.LongAdder count = HeapModel.COVERAGE.get(what);
        return count == null ? 0 : count.sum();
    }

}
