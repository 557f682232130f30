package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spanheap.testkit.ChildJvm;
import org.junit.jupiter.api.Test;

/**
 * Real address-space limits, each in a child JVM ({@link AddressSpaceChild}): under
 * {@code prlimit --as} (what {@code ulimit -v} sets on batch and HPC machines) the default heap is
 * created with a smaller range and fails cleanly past it; with RLIMIT_AS lowered under the
 * process's size after creation, every path that asks the OS for memory fails with a clear
 * {@link OutOfMemoryError} while the heap, its statistics and its blocks stay intact.
 */
class AddressSpaceLimitTest {

    /** 2 GiB: a small JVM (64 MiB Java heap, interpreter only) needs about 0.5 GiB of it. */
    private static final long CHILD_LIMIT = 2L << 30;
    private static final String[] SMALL_JVM = {"-Xmx64m", "-Xms64m", "-XX:+UseSerialGC", "-Xint", "-XX:-UsePerfData",
            "-XX:ReservedCodeCacheSize=32m", "-XX:CompressedClassSpaceSize=64m"};

    @Test
    void defaultHeapUnderProcessAddressSpaceLimit() {
        assumeTrue(ChildJvm.prlimit().isPresent(), "prlimit (util-linux) is not on the PATH: no real address-space limit to test under");
        ChildJvm.Result result = ChildJvm.main(AddressSpaceChild.class).jvmArgs(SMALL_JVM).addressSpaceLimit(CHILD_LIMIT)
                .args("default-heap").run();
        result.assertSucceeded();
        String explicit = result.value("explicit-error");
        assertTrue(explicit.contains("mmap of ") && explicit.contains("reserve address space") && explicit.contains("errno 12"),
                explicit);
        long requested = Long.parseLong(result.value("requested"));
        long reserved = Long.parseLong(result.value("reserved"));
        assertEquals(SpanHeapConfig.DEFAULT_ADDRESS_SPACE_BYTES, requested);
        assertTrue(reserved >= RangeReservation.FLOOR_BYTES && reserved <= CHILD_LIMIT / 2, "reserved " + reserved);
        assertTrue(result.value("report-line").contains("of 256.0 GiB asked for"), result.value("report-line"));
        // Two 32 MiB blocks per 64 MiB arena, every arena of the range, but the first one's page of small objects.
        assertEquals(2 * reserved / HeapProbe.ARENA_BYTES - 1, Long.parseLong(result.value("large-blocks")), result.describe());
        String full = result.value("full-error");
        for (String part : new String[] {"allocate of 33554432 bytes", "arenas of the " + reserved + "-byte address range",
                "cut short from " + requested, "maxHeapBytes", "held from the OS"}) {
            assertTrue(full.contains(part), () -> "'" + part + "' missing from: " + full);
        }
        String dedicated = result.value("dedicated-error");
        assertTrue(dedicated.contains("allocate of 4294967296 bytes: the OS refused memory") && dedicated.contains("held from the OS"),
                dedicated);
        assertEquals("0", result.value("live-at-end"));
        long shared = Long.parseLong(result.value("shared-reserved"));
        assertTrue(shared >= RangeReservation.FLOOR_BYTES && shared < requested, "shared heap reserved " + shared);
    }

    @Test
    void everyPathThatMapsMemoryFailsCleanlyWhenTheOsRefuses() {
        ChildJvm.Result result = ChildJvm.main(AddressSpaceChild.class).jvmArgs(SMALL_JVM).args("refused-after-creation").run();
        result.assertSucceeded();
        for (String path : new String[] {"small-new-span", "large", "dedicated", "checked-small-new-span", "stack-chunk",
                "virtual-new-span"}) {
            String message = result.value("refused-" + path);
            assertTrue(message.contains("bytes: the OS refused memory") && message.contains("errno 12")
                    && message.contains("maxHeapBytes") && message.contains("held from the OS"), () -> path + ": " + message);
        }
        // After the block filling arena 0 is freed, a span and a large object come from its pages, under the same limit.
        assertTrue(result.stdout().lines().anyMatch("ok"::equals), result.describe());
    }
}
