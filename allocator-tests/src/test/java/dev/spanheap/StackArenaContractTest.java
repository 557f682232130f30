package dev.spanheap;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Arena} contract, asserted identically against {@link Arena#ofConfined()} and
 * {@link SpanHeap#newConfinedArena()}: whatever a caller can observe of the JDK's confined arena
 * must hold for the stack arena, since it is sold as a drop-in.
 */
class StackArenaContractTest {

    private static SpanHeap heap;

    @BeforeAll
    static void createHeap() {
        heap = SpanHeap.create();
    }

    @AfterAll
    static void closeHeap() {
        heap.close();
    }

    static Stream<Named<Supplier<Arena>>> arenas() {
        return Stream.of(
                Named.of("Arena.ofConfined()", Arena::ofConfined),
                Named.of("SpanHeap.newConfinedArena()", () -> heap.newConfinedArena()));
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void memoryIsZeroFilledEvenWhenReused(Supplier<Arena> factory) {
        for (int round = 0; round < 3; round++) {
            try (Arena arena = factory.get()) {
                for (long size : new long[] {1, 7, 64, 100, 4096, 16384, 20000, 1 << 20}) {
                    MemorySegment segment = arena.allocate(size);
                    assertEquals(size, segment.byteSize());
                    for (long i = 0; i < size; i++) {
                        assertEquals(0, segment.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of " + size + " in round " + round);
                    }
                    segment.fill((byte) 0x5A);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void alignmentIsHonoured(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            for (long alignment = 1; alignment <= 1 << 16; alignment <<= 1) {
                arena.allocate(1); // knock the top off any alignment
                MemorySegment segment = arena.allocate(24, alignment);
                assertEquals(0, segment.address() % alignment, "alignment " + alignment);
                assertEquals(24, segment.byteSize());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void zeroLengthAllocationsWork(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            MemorySegment empty = arena.allocate(0);
            assertEquals(0, empty.byteSize());
            assertEquals(arena.scope(), empty.scope());
            MemorySegment aligned = arena.allocate(0, 256);
            assertEquals(0, aligned.address() % 256);
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void segmentsNeverOverlapAndKeepTheirContents(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            List<MemorySegment> segments = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                long size = (i * 37) % 3000 + (i % 50 == 0 ? 40_000 : 0);
                MemorySegment segment = arena.allocate(size, 1L << (i % 7));
                segment.fill((byte) i);
                segments.add(segment);
            }
            for (int i = 0; i < segments.size(); i++) {
                MemorySegment segment = segments.get(i);
                for (long b = 0; b < segment.byteSize(); b++) {
                    assertEquals((byte) i, segment.get(ValueLayout.JAVA_BYTE, b), "segment " + i + " byte " + b);
                }
            }
            assertNoOverlap(segments);
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void closeMakesEverySegmentInaccessible(Supplier<Arena> factory) {
        Arena arena = factory.get();
        MemorySegment small = arena.allocate(64);
        MemorySegment big = arena.allocate(1 << 20);
        MemorySegment text = arena.allocateFrom("hello");
        MemorySegment.Scope scope = arena.scope();
        assertTrue(scope.isAlive());
        arena.close();
        assertFalse(scope.isAlive());
        assertFalse(arena.scope().isAlive());
        for (MemorySegment segment : List.of(small, big, text)) {
            assertFalse(segment.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> segment.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            assertThrows(IllegalStateException.class, () -> segment.fill((byte) 1));
        }
        assertThrows(IllegalStateException.class, () -> arena.allocate(8));
        assertThrows(IllegalStateException.class, arena::close);
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void otherThreadsGetWrongThreadException(Supplier<Arena> factory) throws Exception {
        try (Arena arena = factory.get()) {
            MemorySegment segment = arena.allocate(64);
            segment.set(ValueLayout.JAVA_INT, 0, 7);
            assertTrue(segment.isAccessibleBy(Thread.currentThread()));
            // Both probes run at once and add to it: a synchronized list, or an add is lost.
            List<Class<?>> thrown = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicReference<Boolean> accessible = new AtomicReference<>();
            Runnable probe = () -> {
                accessible.set(segment.isAccessibleBy(Thread.currentThread()));
                for (Runnable misuse : List.<Runnable>of(
                        () -> segment.get(ValueLayout.JAVA_INT, 0),
                        () -> arena.allocate(8),
                        () -> arena.allocate(1 << 20),
                        arena::close)) {
                    try {
                        misuse.run();
                        thrown.add(null);
                    } catch (RuntimeException e) {
                        thrown.add(e.getClass());
                    }
                }
            };
            for (Thread other : List.of(Thread.ofPlatform().start(probe), Thread.ofVirtual().start(probe))) {
                other.join();
            }
            assertFalse(accessible.get());
            assertEquals(List.of(WrongThreadException.class, WrongThreadException.class, WrongThreadException.class,
                    WrongThreadException.class, WrongThreadException.class, WrongThreadException.class,
                    WrongThreadException.class, WrongThreadException.class), thrown);
            assertEquals(7, segment.get(ValueLayout.JAVA_INT, 0), "the arena still works for its owner");
            assertTrue(arena.scope().isAlive());
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void badArgumentsThrowIllegalArgumentException(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(-1));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, 0));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, 3));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, -8));
            assertEquals(8, arena.allocate(8).byteSize(), "the arena is still usable");
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void scopesAreDistinctPerArenaAndSharedByItsSegments(Supplier<Arena> factory) {
        try (Arena outer = factory.get(); Arena inner = factory.get()) {
            assertNotEquals(outer.scope(), inner.scope());
            assertEquals(outer.scope(), outer.allocate(8).scope());
            assertEquals(inner.scope(), inner.allocate(8).scope());
            assertEquals(outer.scope(), outer.allocate(100_000).scope());
        }
    }

    @ParameterizedTest
    @MethodSource("arenas")
    void stringsRoundTrip(Supplier<Arena> factory) {
        try (Arena arena = factory.get()) {
            MemorySegment text = arena.allocateFrom("stack arenas \u00e9\u00e8");
            assertEquals("stack arenas \u00e9\u00e8", text.getString(0));
            MemorySegment ints = arena.allocateFrom(ValueLayout.JAVA_INT, 1, 2, 3);
            assertEquals(3, ints.getAtIndex(ValueLayout.JAVA_INT, 2));
            assertEquals(0, ints.address() % 4);
        }
    }

    static void assertNoOverlap(List<MemorySegment> segments) {
        List<MemorySegment> sorted = new ArrayList<>(segments);
        sorted.removeIf(s -> s.byteSize() == 0);
        sorted.sort((a, b) -> Long.compareUnsigned(a.address(), b.address()));
        for (int i = 1; i < sorted.size(); i++) {
            MemorySegment previous = sorted.get(i - 1);
            MemorySegment next = sorted.get(i);
            assertTrue(previous.address() + previous.byteSize() <= next.address(),
                    "segments overlap: " + Long.toHexString(previous.address()) + "+" + previous.byteSize()
                            + " and " + Long.toHexString(next.address()));
        }
    }
}
