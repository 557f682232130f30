package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every misuse gets the exception the API documents, of exactly that type, with a message that
 * names the problem; and afterwards the heap is consistent ({@code verifyInvariants}) and still
 * serves allocations. An allocator that corrupts itself on a bad call turns one bug into two.
 */
class BadInputRejectionTest {

    private static SpanHeap newHeap() {
        return SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build());
    }

    private static SpanHeap newCheckedHeap() {
        return SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).checked(true).build());
    }

    /** Asserts the exact exception type and that the message contains each of {@code mentions}. */
    private static <T extends Throwable> T rejects(Class<T> type, Executable call, String... mentions) {
        T thrown = assertThrowsExactly(type, call);
        for (String mention : mentions) {
            assertTrue(String.valueOf(thrown.getMessage()).contains(mention),
                    () -> "message should mention '" + mention + "': " + thrown.getMessage());
        }
        return thrown;
    }

    /**
     * Runs an allocation that must succeed; an {@link OutOfMemoryError} becomes a test failure.
     * (JUnit treats an escaping OutOfMemoryError as fatal and aborts the whole run, which would
     * hide every other result.)
     */
    private static <T> T mustSucceed(String what, java.util.function.Supplier<T> allocation) {
        try {
            return allocation.get();
        } catch (OutOfMemoryError e) {
            throw new AssertionError(what + " was refused: the heap did not recover (" + e.getMessage() + ")", e);
        }
    }

    /** The heap's structures are intact and it still allocates, writes and frees small, large and dedicated blocks. */
    private static void assertConsistentAndUsable(SpanHeap heap) {
        mustSucceed("allocation after the misuse", () -> {
            checkConsistentAndUsable(heap);
            return null;
        });
    }

    private static void checkConsistentAndUsable(SpanHeap heap) {
        heap.verifyInvariants();
        long liveBefore = heap.stats().liveObjects();
        for (long size : new long[] {24, 4000, 100_000}) {
            MemorySegment block = heap.allocate(size, 8);
            block.set(ValueLayout.JAVA_LONG, 0, size);
            block.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 9);
            assertEquals(size, block.get(ValueLayout.JAVA_LONG, 0));
            heap.free(block);
        }
        long raw = heap.allocateAddress(64);
        heap.freeAddress(raw);
        heap.verifyInvariants();
        assertEquals(liveBefore, heap.stats().liveObjects(), "usability check left blocks behind");
    }

    // ---------------------------------------------------------------- sizes and alignments

    @ParameterizedTest
    @ValueSource(longs = {-1, -8, -4096, Long.MIN_VALUE})
    void negativeSizesAreRejected(long size) {
        try (SpanHeap heap = newHeap()) {
            rejects(IllegalArgumentException.class, () -> heap.allocate(size, 8), "size must not be negative", String.valueOf(size));
            rejects(IllegalArgumentException.class, () -> heap.allocate(size), "negative");
            rejects(IllegalArgumentException.class, () -> heap.allocateUninitialized(size, 8), "negative");
            rejects(IllegalArgumentException.class, () -> heap.allocateAddress(size), "negative");
            MemorySegment block = heap.allocate(16, 8);
            rejects(IllegalArgumentException.class, () -> heap.reallocate(block, size), "negative");
            heap.free(block);
            assertConsistentAndUsable(heap);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 3, 6, 24, -1, -8, Long.MIN_VALUE, 3L << 40})
    void alignmentsThatAreNotPositivePowersOfTwoAreRejected(long alignment) {
        try (SpanHeap heap = newHeap()) {
            rejects(IllegalArgumentException.class, () -> heap.allocate(64, alignment), "alignment", String.valueOf(alignment));
            rejects(IllegalArgumentException.class, () -> heap.allocateUninitialized(100_000, alignment), "alignment");
            assertConsistentAndUsable(heap);
        }
    }

    /** Sizes that no mapping could hold: an exception naming the size, never an overflow into a small block. */
    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE, Long.MAX_VALUE - 1, Long.MAX_VALUE - 4096})
    void sizesNearLongMaxValueAreRejected(long size) {
        try (SpanHeap heap = newHeap()) {
            rejects(IllegalArgumentException.class, () -> heap.allocate(size, 8), String.valueOf(size));
            rejects(IllegalArgumentException.class, () -> heap.allocateAddress(size), String.valueOf(size));
            assertConsistentAndUsable(heap);
        }
    }

    /** Just under the overflow guard the request is representable but no OS maps it: the OS's refusal surfaces as OutOfMemoryError. */
    @ParameterizedTest
    @ValueSource(longs = {1L << 62, Long.MAX_VALUE - 4104})
    void sizesTheOsCannotMapAreAnOutOfMemoryError(long size) {
        try (SpanHeap heap = newHeap()) {
            rejects(OutOfMemoryError.class, () -> heap.allocate(size, 8), String.valueOf(size), "maxHeapBytes", "held from the OS");
            assertConsistentAndUsable(heap);
        }
    }

    // ---------------------------------------------------------------- frees of things that are not live blocks

    @Test
    void freeingNullIsRejected() {
        try (SpanHeap heap = newHeap()) {
            rejects(IllegalArgumentException.class, () -> heap.free(null), "null");
            rejects(IllegalArgumentException.class, () -> heap.reallocate(null, 8), "null");
            assertConsistentAndUsable(heap);
        }
    }

    @Test
    void segmentsFromAnotherArenaOrHeapAreRejected() {
        try (SpanHeap heap = newHeap(); SpanHeap other = newHeap(); Arena arena = Arena.ofConfined()) {
            MemorySegment confined = arena.allocate(64);
            rejects(IllegalArgumentException.class, () -> heap.free(confined), "does not belong to this heap");
            rejects(IllegalArgumentException.class, () -> heap.reallocate(confined, 128), "does not belong to this heap");
            MemorySegment foreign = other.allocate(64, 8);
            rejects(IllegalArgumentException.class, () -> heap.free(foreign), "does not belong to this heap");
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(foreign.address()), "not allocated by this heap");
            MemorySegment foreignLarge = other.allocate(100L << 20, 8);
            rejects(IllegalArgumentException.class, () -> heap.free(foreignLarge), "does not belong to this heap");
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(0), "not allocated by this heap");
            other.free(foreign);
            other.free(foreignLarge);
            other.verifyInvariants();
            assertConsistentAndUsable(heap);
        }
    }

    @Test
    void interiorAddressesAreRejected() {
        try (SpanHeap heap = newHeap()) {
            MemorySegment small = heap.allocate(48, 8);
            MemorySegment large = heap.allocate(100_000, 8);
            MemorySegment dedicated = heap.allocate(65L << 20, 8);
            rejects(IllegalArgumentException.class, () -> heap.free(small.asSlice(8)), "not the start of a slot");
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(small.address() + 1), "not the start of a slot");
            // Pages past the first find their object too (through pageInSpan): the message names its start.
            rejects(IllegalArgumentException.class, () -> heap.free(large.asSlice(8192)), Errors.hex(large.address() + 8192),
                    "inside the object at " + Errors.hex(large.address()));
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(large.address() + 12 * 8192 + 8),
                    "inside the object at " + Errors.hex(large.address()));
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(large.address() + 16), Errors.hex(large.address() + 16),
                    "inside the object at " + Errors.hex(large.address()));
            rejects(IllegalArgumentException.class, () -> heap.free(dedicated.asSlice(4096)), "does not belong to this heap");
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(dedicated.address() + 4096), "not allocated by this heap");
            heap.verifyInvariants();
            assertEquals(3, heap.stats().liveObjects(), "a rejected free must change nothing");
            heap.free(small);
            heap.free(large);
            heap.free(dedicated);
            assertConsistentAndUsable(heap);
        }
    }

    @Test
    void addressesInFreePagesAreRejected() {
        try (SpanHeap heap = newHeap()) {
            MemorySegment block = heap.allocate(64, 8);
            long farPage = HeapProbe.base(heap) + (40L << 20); // inside the first arena, never handed out
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(farPage), "in free pages", Errors.hex(farPage));
            rejects(IllegalArgumentException.class, () -> heap.usableSize(farPage), "in free pages");
            long pastArenas = HeapProbe.base(heap) + (1L << 30); // reserved, no arena mapped there
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(pastArenas), "not allocated by this heap");
            // The first address past the last mapped arena, and the last word of that arena.
            long arenasEnd = HeapProbe.base(heap) + heap.stats().arenas() * HeapProbe.ARENA_BYTES;
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(arenasEnd), "not allocated by this heap");
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(arenasEnd - 8), "in free pages");
            heap.free(block);
            assertConsistentAndUsable(heap);
        }
    }

    // ---------------------------------------------------------------- double frees

    /** Default mode: a large object's second free is always caught, whatever the caches hold. */
    @Test
    void defaultModeCatchesEveryDoubleFreeOfLargeAndDedicatedObjects() {
        try (SpanHeap heap = newHeap()) {
            MemorySegment large = heap.allocate(200_000, 8);
            MemorySegment neighbour = heap.allocate(200_000, 8);
            heap.free(large);
            rejects(IllegalArgumentException.class, () -> heap.free(large), Errors.hex(large.address()));
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(large.address()), Errors.hex(large.address()));
            MemorySegment dedicated = heap.allocate(70L << 20, 8);
            long address = dedicated.address();
            heap.free(dedicated);
            rejects(IllegalArgumentException.class, () -> heap.free(dedicated), "does not belong to this heap");
            rejects(IllegalArgumentException.class, () -> heap.freeAddress(address), "not allocated by this heap");
            heap.free(neighbour);
            assertConsistentAndUsable(heap);
            assertEquals(0, heap.stats().doubleFreesDetected());
        }
    }

    /**
     * Default mode: a small block whose slot is back in its span is caught on a free that takes
     * the slow path; a virtual thread always does (it has no cache of its own).
     */
    @Test
    void defaultModeCatchesASmallDoubleFreeOnceTheSlotIsBackInItsSpan() throws Exception {
        try (SpanHeap heap = newHeap()) {
            MemorySegment keepsSpanAlive = heap.allocate(64, 8);
            MemorySegment block = heap.allocate(64, 8);
            heap.free(block);
            heap.flushCurrentThreadCache(); // the slot goes back to its span
            Throwable[] thrown = new Throwable[1];
            Thread.ofVirtual().start(() -> {
                try {
                    heap.free(block);
                } catch (Throwable t) {
                    thrown[0] = t;
                }
            }).join();
            assertEquals(IllegalArgumentException.class, thrown[0] == null ? null : thrown[0].getClass(), "second free from a virtual thread");
            assertTrue(thrown[0].getMessage().contains("double free"), thrown[0].getMessage());
            heap.free(keepsSpanAlive);
            // Flushing the caches and the class's spare empty span returns the span to the page heap.
            heap.flushReachableCaches();
            // With the span empty and returned, the slot lies in free pages: caught on any thread.
            rejects(IllegalArgumentException.class, () -> heap.free(block), "in free pages");
            assertConsistentAndUsable(heap);
        }
    }

    /**
     * Default mode, as documented: a second free while the first still sits in the thread's cache
     * is not caught at the call; the duplicate is found when the cache is flushed, skipped, and
     * counted in {@code doubleFreesDetected}, and the heap stays consistent.
     */
    @Test
    void defaultModeSkipsAndCountsADoubleFreeThatSlippedPastTheCache() {
        try (SpanHeap heap = newHeap()) {
            MemorySegment keepsSpanAlive = heap.allocate(32, 8);
            MemorySegment block = heap.allocate(32, 8);
            heap.free(block);
            heap.free(block); // not caught here: both frees went to this thread's cache
            heap.flushCurrentThreadCache();
            assertEquals(1, heap.stats().doubleFreesDetected());
            heap.verifyInvariants();
            assertEquals(1, heap.stats().liveObjects());
            heap.free(keepsSpanAlive);
            assertConsistentAndUsable(heap);
        }
    }

    @Test
    void checkedModeCatchesEveryDoubleFreeAtTheCall() {
        try (SpanHeap heap = newCheckedHeap()) {
            List<MemorySegment> blocks = new ArrayList<>();
            for (long size : new long[] {8, 64, 64, 1000, 32768, 40_000, 70L << 20}) {
                blocks.add(heap.allocate(size, 8));
            }
            MemorySegment keep = heap.allocate(64, 8);
            for (MemorySegment block : blocks) {
                heap.free(block);
                rejects(IllegalArgumentException.class, () -> heap.free(block));
                rejects(IllegalArgumentException.class, () -> heap.freeAddress(block.address()));
            }
            heap.verifyInvariants();
            assertEquals(0, heap.stats().doubleFreesDetected(), "caught at the call, none slipped through");
            heap.free(keep);
            assertConsistentAndUsable(heap);
        }
    }

    // ---------------------------------------------------------------- writes after free (checked mode)

    @Test
    void checkedModeDetectsAWriteAfterFreeWhenTheSlotIsHandedOutAgain() {
        try (SpanHeap heap = newCheckedHeap()) {
            MemorySegment victim = heap.allocate(64, 8);
            MemorySegment keepsSpanAlive = heap.allocate(64, 8);
            heap.free(victim);
            victim.set(ValueLayout.JAVA_LONG, 16, 42L); // the bug under test: a write after free
            IllegalStateException thrown = rejects(IllegalStateException.class, () -> heap.allocate(64, 8),
                    "written after it was freed", Errors.hex(victim.address()), "offset 16");
            assertTrue(thrown.getMessage().contains("quarantined"), thrown.getMessage());
            heap.verifyInvariants(); // the quarantined slot is accounted for
            MemorySegment next = heap.allocate(64, 8);
            assertTrue(next.address() != victim.address(), "a quarantined slot must not be handed out again");
            heap.free(next);
            heap.free(keepsSpanAlive);
            assertConsistentAndUsable(heap);
        }
    }

    @Test
    void checkedModeCatchesAWriteAtTheFirstByteOfALaterSlotAndCountsIt() {
        try (SpanHeap heap = newCheckedHeap()) {
            MemorySegment[] blocks = new MemorySegment[5];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = heap.allocate(48, 8);
            }
            HeapStats served = heap.stats();
            assertEquals(1, served.allocationsFromNewSpan(), "checked mode: the first slot needed a new span");
            assertEquals(4, served.allocationsFromCentral(), "checked mode: the others came from the partial span");
            assertEquals(0, served.allocationsFromCache(), "checked mode has no thread caches");
            MemorySegment victim = blocks[3]; // not the span's first slot: its own poison bit is checked
            heap.free(victim);
            victim.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // the very first byte
            rejects(IllegalStateException.class, () -> heap.allocate(48, 8),
                    "written after it was freed", Errors.hex(victim.address()), "offset 0");
            HeapStats quarantined = heap.stats();
            assertEquals(4, quarantined.liveObjects(), "the quarantined slot is neither live nor free: " + quarantined);
            assertEquals(5, quarantined.totalAllocations(), "the refused allocation is not counted");
            assertEquals(1, quarantined.totalFrees());
            heap.verifyInvariants();
            for (int i = 0; i < blocks.length; i++) {
                if (i != 3) {
                    heap.free(blocks[i]);
                }
            }
            assertEquals(0, heap.stats().liveObjects());
            heap.verifyInvariants();
        }
    }

    @Test
    void checkedModeVerificationFindsAWriteAfterFree() {
        try (SpanHeap heap = newCheckedHeap()) {
            MemorySegment victim = heap.allocate(256, 8);
            MemorySegment keepsSpanAlive = heap.allocate(256, 8);
            heap.free(victim);
            victim.set(ValueLayout.JAVA_BYTE, 255, (byte) 1);
            rejects(IllegalStateException.class, heap::verifyInvariants, "written after free", Errors.hex(victim.address()));
            // Still usable: the slot is caught again (and quarantined) when it is handed out.
            rejects(IllegalStateException.class, () -> heap.allocate(256, 8), "written after it was freed");
            heap.verifyInvariants();
            heap.free(keepsSpanAlive);
            assertConsistentAndUsable(heap);
        }
    }

    // ---------------------------------------------------------------- after close

    @Test
    void everyMethodThrowsIllegalStateExceptionAfterClose(@TempDir Path directory) {
        SpanHeap heap = newHeap();
        MemorySegment small = heap.allocate(64, 8);
        MemorySegment large = heap.allocate(100_000, 8);
        MemorySegment dedicated = heap.allocate(65L << 20, 8);
        long raw = heap.allocateAddress(64);
        heap.close();
        assertTrue(heap.isClosed());
        List<Executable> calls = List.of(
                () -> heap.allocate(64, 8),
                () -> heap.allocate(64),
                () -> heap.allocate(100_000, 8),
                () -> heap.allocate(70L << 20, 8),
                () -> heap.allocateUninitialized(64, 8),
                () -> heap.allocateAddress(64),
                () -> heap.free(small),
                () -> heap.free(large),
                () -> heap.free(dedicated),
                () -> heap.freeAddress(raw),
                () -> heap.freeAddress(small.address()),
                () -> heap.reallocate(small, 128),
                () -> heap.reallocate(small, 8),
                () -> heap.usableSize(small.address()),
                () -> heap.stats(),
                () -> heap.report(),
                () -> heap.heapMap(directory.resolve("map.svg")),
                () -> heap.releaseFreeMemory(),
                () -> heap.newConfinedArena(),
                () -> heap.verifyInvariants(),
                // Segments of a closed heap are inaccessible: an exception, never a crash.
                () -> small.get(ValueLayout.JAVA_LONG, 0),
                () -> small.set(ValueLayout.JAVA_LONG, 0, 1L),
                () -> large.fill((byte) 1),
                () -> dedicated.get(ValueLayout.JAVA_BYTE, 0));
        for (int i = 0; i < calls.size(); i++) {
            int index = i;
            Throwable thrown = assertThrowsExactly(IllegalStateException.class, calls.get(i), () -> "call #" + index + " after close");
            assertTrue(thrown.getMessage() != null && !thrown.getMessage().isBlank(), "call #" + i + ": no message");
        }
        // The reading calls name themselves, not a call they make inside (PIT: a heapMap or
        // leakReport without its own check still threw, from stats(); a profile() without it did not).
        assertEquals("heapMap: the heap is closed",
                assertThrowsExactly(IllegalStateException.class, () -> heap.heapMap(directory.resolve("map2.svg"))).getMessage());
        assertEquals("leakReport: the heap is closed",
                assertThrowsExactly(IllegalStateException.class, heap::leakReport).getMessage());
        assertEquals("profile: the heap is closed", assertThrowsExactly(IllegalStateException.class, heap::profile).getMessage());
        heap.close(); // a second close does nothing
    }

    // ---------------------------------------------------------------- the heap limit

    @Test
    void passingMaxHeapBytesIsAnOutOfMemoryErrorNamingTheNumbersAndTheHeapRecovers() {
        long limit = 24L << 20;
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).maxHeapBytes(limit).build())) {
            MemorySegment first = heap.allocate(16L << 20, 8);
            long request = 12L << 20;
            OutOfMemoryError large = rejects(OutOfMemoryError.class, () -> heap.allocate(request, 8),
                    String.valueOf(request), "maxHeapBytes " + limit, "held from the OS");
            assertTrue(large.getMessage().matches(".*held from the OS: \\d+ bytes.*"), large.getMessage());
            rejects(OutOfMemoryError.class, () -> heap.allocate(100L << 20, 8), String.valueOf(100L << 20), "maxHeapBytes " + limit);
            heap.verifyInvariants();
            assertTrue(heap.stats().heldBytes() <= limit);
            heap.free(first);
            MemorySegment retry = mustSucceed("the same request after a free", () -> heap.allocate(request, 8));
            assertEquals(request, retry.byteSize());
            heap.free(retry);
            assertConsistentAndUsable(heap);
        }
    }

    @Test
    void smallObjectsPastMaxHeapBytesFailCleanlyAndWorkAgainAfterFrees() {
        long limit = 8L << 20;
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).maxHeapBytes(limit).build())) {
            List<Long> blocks = new ArrayList<>();
            OutOfMemoryError refused = null;
            while (refused == null) {
                try {
                    blocks.add(heap.allocateAddress(1024));
                } catch (OutOfMemoryError e) {
                    refused = e;
                }
                assertTrue(blocks.size() < limit / 1024 + 1, "the limit was never enforced");
            }
            String message = refused.getMessage();
            assertTrue(message.contains("maxHeapBytes " + limit) && message.contains("held from the OS"), message);
            heap.verifyInvariants();
            assertTrue(heap.stats().heldBytes() <= limit);
            assertTrue(blocks.size() * 1024L > limit * 3 / 4, "refused after only " + blocks.size() + " KiB");
            for (long address : blocks) {
                heap.freeAddress(address);
            }
            heap.flushCurrentThreadCache();
            assertConsistentAndUsable(heap);
            MemorySegment again = mustSucceed("half the limit after freeing everything", () -> heap.allocate(limit / 2, 8));
            heap.free(again);
            HeapProbe.assertEmptyAfterFlush(heap);
        }
    }
}
