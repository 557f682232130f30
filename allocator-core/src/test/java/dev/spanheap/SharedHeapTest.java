package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Tests of {@link SpanHeap#shared()} and the properties it is built from: adapters rely on one heap
 * per process that nobody can close under them, and on a clear error for a mistyped property.
 */
class SharedHeapTest {

    @Test
    void sharedIsOneHeapThatRefusesToClose() {
        SpanHeap heap = SpanHeap.shared();
        assertSame(heap, SpanHeap.shared());
        MemorySegment segment = heap.allocate(100, 8);
        IllegalStateException e = assertThrows(IllegalStateException.class, heap::close);
        assertTrue(e.getMessage().contains("SpanHeap.shared()"), e.getMessage());
        assertFalse(heap.isClosed());
        segment.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, 42);
        heap.free(segment);
    }

    @Test
    void anOwnHeapStillCloses() {
        SpanHeap own = SpanHeap.create();
        own.close();
        assertTrue(own.isClosed());
    }

    @Test
    void propertiesSetLimitCheckedModeScavengerAndHugePages() {
        Map<String, String> properties = Map.of(SharedHeap.MAX_HEAP_BYTES, "512m", SharedHeap.CHECKED, "true",
                SharedHeap.SCAVENGER, "FALSE", SharedHeap.HUGE_PAGES, "false", SharedHeap.HUGE_PAGES_FROM, "128m");
        SpanHeapConfig config = SharedHeap.configFrom(properties::get);
        assertEquals(512L << 20, config.maxHeapBytes());
        assertTrue(config.checked());
        assertFalse(config.scavengerEnabled());
        assertFalse(config.hugePages());
        assertEquals(128L << 20, config.hugePagesFromBytes());
        assertEquals(0, SharedHeap.configFrom(Map.of(SharedHeap.HUGE_PAGES_FROM, "0m")::get).hugePagesFromBytes());
        IllegalArgumentException from = assertThrows(IllegalArgumentException.class,
                () -> SharedHeap.configFrom(Map.of(SharedHeap.HUGE_PAGES_FROM, "lots")::get));
        assertEquals("spanheap.hugePagesFrom must be a positive number of bytes with an optional k, m or g suffix, was 'lots'",
                from.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SharedHeap.configFrom(Map.of(SharedHeap.HUGE_PAGES, "sometimes")::get));
        assertEquals("spanheap.hugePages must be true or false, was 'sometimes'", e.getMessage());

        SpanHeapConfig defaults = SharedHeap.configFrom(name -> null);
        assertEquals(Long.MAX_VALUE, defaults.maxHeapBytes());
        assertFalse(defaults.checked());
        assertTrue(defaults.scavengerEnabled());
        assertEquals(SpanHeapConfig.builder().build().hugePages(), defaults.hugePages());
        assertEquals(SpanHeapConfig.DEFAULT_HUGE_PAGES_FROM_BYTES, defaults.hugePagesFromBytes());
    }

    @Test
    void theShardsPropertySetsTheShardCountOfSharedAndBuiltHeaps() {
        assertEquals(3, SharedHeap.configFrom(Map.of(SharedHeap.SHARDS, " 3 ")::get).shards());
        assertEquals(SpanHeapConfig.defaultShards(), SharedHeap.configFrom(name -> null).shards());
        String before = System.getProperty(SharedHeap.SHARDS);
        System.setProperty(SharedHeap.SHARDS, "5");
        try {
            assertEquals(5, SpanHeapConfig.builder().build().shards(), "the builder's default");
            assertEquals(2, SpanHeapConfig.builder().shards(2).build().shards(), "an explicit count wins");
        } finally {
            if (before == null) {
                System.clearProperty(SharedHeap.SHARDS);
            } else {
                System.setProperty(SharedHeap.SHARDS, before);
            }
        }
        for (String bad : new String[] {"0", "257", "many", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SharedHeap.configFrom(Map.of(SharedHeap.SHARDS, bad)::get));
            assertEquals("spanheap.shards must be a whole number from 1 to 256, was '" + bad + "'", e.getMessage());
        }
    }

    @Test
    void byteSizesTakeSuffixes() {
        assertEquals(4096, SharedHeap.parseBytes("p", "4096"));
        assertEquals(3L << 10, SharedHeap.parseBytes("p", "3k"));
        assertEquals(2L << 30, SharedHeap.parseBytes("p", " 2G "));
    }

    @Test
    void badValuesNameThePropertyAndTheValue() {
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> SharedHeap.configFrom(Map.of(SharedHeap.MAX_HEAP_BYTES, "lots")::get));
        assertEquals("spanheap.maxHeapBytes must be a positive number of bytes with an optional k, m or g suffix,"
                + " was 'lots'", size.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> SharedHeap.parseBytes(SharedHeap.MAX_HEAP_BYTES, "0"));
        assertTrue(zero.getMessage().contains("was '0'"), zero.getMessage());
        IllegalArgumentException overflow = assertThrows(IllegalArgumentException.class,
                () -> SharedHeap.parseBytes(SharedHeap.MAX_HEAP_BYTES, "9999999999999g"));
        assertTrue(overflow.getMessage().contains("between 1 and"), overflow.getMessage());
        IllegalArgumentException flag = assertThrows(IllegalArgumentException.class,
                () -> SharedHeap.configFrom(Map.of(SharedHeap.CHECKED, "yes")::get));
        assertEquals("spanheap.checked must be true or false, was 'yes'", flag.getMessage());
    }
}
