package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The generated size-class table must be Go's, and its lookups must pick the smallest fitting class. */
class SizeClassesTest {

    /** Go's published table (runtime/sizeclasses.go, linux/amd64), as facts to compare against. */
    private static final int[] GO_SIZES = {8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
            288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
            1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
            6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
            20480, 21760, 24576, 27264, 28672, 32768};
    private static final int[] GO_PAGES = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4};

    @Test
    void generatorReproducesGosTable() {
        List<int[]> generated = SizeClasses.generate();
        assertEquals(67, generated.size());
        assertArrayEquals(GO_SIZES, generated.stream().mapToInt(c -> c[0]).toArray());
        assertArrayEquals(GO_PAGES, generated.stream().mapToInt(c -> c[1]).toArray());
    }

    @Test
    void everySizeMapsToTheSmallestClassThatHoldsIt() {
        for (int size = 0; size <= SizeClasses.MAX_SMALL_SIZE; size++) {
            int c = SizeClasses.classOf(size);
            assertTrue(SizeClasses.SLOT_SIZE[c] >= size, "class " + c + " too small for " + size);
            if (c > 1) {
                assertTrue(SizeClasses.SLOT_SIZE[c - 1] < size, "class " + (c - 1) + " would hold " + size);
            }
        }
        assertEquals(0, SizeClasses.classOf(SizeClasses.MAX_SMALL_SIZE + 1));
        assertEquals(0, SizeClasses.classOf(-1));
        assertEquals(0, SizeClasses.classOf(Long.MIN_VALUE));
        assertEquals(1, SizeClasses.classOf(0));
    }

    @Test
    void alignedClassesHaveSlotSizesThatAreMultiplesOfTheAlignment() {
        for (int shift = 4; shift <= SizeClasses.PAGE_SHIFT; shift++) {
            long alignment = 1L << shift;
            for (int size = 0; size <= SizeClasses.MAX_SMALL_SIZE; size += 7) {
                int c = SizeClasses.classOf(size, alignment);
                if (c != 0) {
                    assertEquals(0, SizeClasses.SLOT_SIZE[c] % alignment);
                    assertTrue(SizeClasses.SLOT_SIZE[c] >= size);
                }
            }
        }
        // An 8 KiB alignment is always satisfiable by the 8 KiB class for small sizes.
        assertEquals(8192, SizeClasses.SLOT_SIZE[SizeClasses.classOf(100, 8192)]);
    }

    @Test
    void divisibilityTestIsExactForEveryOffsetInASpan() {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            int spanBytes = SizeClasses.SPAN_PAGES[c] * SizeClasses.PAGE_SIZE;
            for (int offset = 0; offset < spanBytes; offset++) {
                assertEquals(offset % SizeClasses.SLOT_SIZE[c] == 0, SizeClasses.isSlotMultiple(offset, c),
                        "class " + c + " offset " + offset);
            }
        }
        assertTrue(!SizeClasses.isSlotMultiple(0, 0), "class 0 must never pass");
    }

    @Test
    void wasteStaysWithinGosBounds() {
        for (int c = 1; c < SizeClasses.CLASS_COUNT; c++) {
            int spanBytes = SizeClasses.SPAN_PAGES[c] * SizeClasses.PAGE_SIZE;
            assertTrue(spanBytes % SizeClasses.SLOT_SIZE[c] * 8 <= spanBytes, "tail waste of class " + c);
            assertTrue(SizeClasses.SLOTS_PER_SPAN[c] <= 1024);
        }
    }
}
