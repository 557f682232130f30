package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The builder's ranges at both ends (the last value accepted, the first refused), and what a config says about its own origin. */
class SpanHeapConfigTest {

    private static final long ARENA = 64L << 20;

    @Test
    void eachRangeAcceptsItsEndsAndRefusesOneStepPast() {
        assertEquals(1, SpanHeapConfig.builder().shards(1).build().shards());
        assertEquals(SpanHeapConfig.MAX_SHARDS, SpanHeapConfig.builder().shards(SpanHeapConfig.MAX_SHARDS).build().shards());
        refused("shards must be between 1 and 256, was 0", () -> SpanHeapConfig.builder().shards(0));
        refused("shards must be between 1 and 256, was 257", () -> SpanHeapConfig.builder().shards(SpanHeapConfig.MAX_SHARDS + 1));

        assertEquals(ARENA, SpanHeapConfig.builder().addressSpaceBytes(ARENA).build().addressSpaceBytes());
        assertEquals(64L << 40, SpanHeapConfig.builder().addressSpaceBytes(64L << 40).build().addressSpaceBytes());
        refused("addressSpaceBytes must be a multiple of 64 MiB between 64 MiB and 64 TiB, was " + ((64L << 40) + ARENA),
                () -> SpanHeapConfig.builder().addressSpaceBytes((64L << 40) + ARENA));
        refused("was 0", () -> SpanHeapConfig.builder().addressSpaceBytes(0));
        refused("was " + (ARENA + 8192), () -> SpanHeapConfig.builder().addressSpaceBytes(ARENA + 8192));

        assertEquals(0.0, SpanHeapConfig.builder().scavengerRetainRatio(0).build().scavengerRetainRatio());
        assertEquals(100.0, SpanHeapConfig.builder().scavengerRetainRatio(100).build().scavengerRetainRatio());
        assertEquals(0.25, SpanHeapConfig.builder().scavengerRetainRatio(0.25).build().scavengerRetainRatio());
        refused("scavengerRetainRatio must be between 0 and 100, was 100.5", () -> SpanHeapConfig.builder().scavengerRetainRatio(100.5));
        refused("was -0.1", () -> SpanHeapConfig.builder().scavengerRetainRatio(-0.1));
        refused("was NaN", () -> SpanHeapConfig.builder().scavengerRetainRatio(Double.NaN));

        assertEquals(Long.MAX_VALUE, SpanHeapConfig.builder().maxHeapBytes(0).build().maxHeapBytes(), "0 is no limit");
        assertEquals(1, SpanHeapConfig.builder().maxHeapBytes(1).build().maxHeapBytes());
        refused("maxHeapBytes must be positive, or 0 for no limit, was -1", () -> SpanHeapConfig.builder().maxHeapBytes(-1));
    }

    @Test
    void onlyTheDefaultAddressSpaceMayShrinkAndOnlyADerivedLimitNamesItsContainer() {
        assertTrue(SpanHeapConfig.builder().build().addressSpaceMayShrink(), "the default range is cut short when the OS refuses it");
        assertFalse(SpanHeapConfig.builder().addressSpaceBytes(ARENA).build().addressSpaceMayShrink(), "an explicit size is kept");
        SpanHeapConfig given = SpanHeapConfig.builder().maxHeapBytes(1 << 30).build();
        assertNull(given.containerLimit(), "a limit given in the config reads no container");
        assertEquals(HeapLimitSource.CONFIG, given.maxHeapBytesSource());
        SpanHeapConfig derived = SpanHeapConfig.builder().build();
        if (System.getProperty("spanheap.maxHeapBytes") == null) {
            assertNotNull(derived.containerLimit(), "the default limit comes from the container's (or none), which it keeps");
        }
    }

    @Test
    void theAddressSpaceIsCutShortOnlyWhenLessWasReservedThanAsked() {
        assertFalse(machine(4L << 30, 4L << 30).addressSpaceCutShort(), "all of it reserved");
        assertTrue(machine(4L << 30, (4L << 30) - ARENA).addressSpaceCutShort(), "one arena short");
        assertFalse(machine(4L << 30, (4L << 30) + ARENA).addressSpaceCutShort());
    }

    private static MachineStats machine(long requested, long reserved) {
        return new MachineStats(requested, reserved, HeapLimitSource.NONE, Long.MAX_VALUE, "", "never", false, -1, 0);
    }

    private static void refused(String mention, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(mention), () -> e.getMessage() + " does not say " + mention);
    }
}
