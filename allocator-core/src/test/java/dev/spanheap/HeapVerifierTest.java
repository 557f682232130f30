package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Each check of {@link HeapVerifier} against a heap with the one piece of state it guards
 * corrupted by hand: the check fails naming that problem, and the heap passes again once the
 * state is put back. The corruptions touch only Java-side bookkeeping (counters, bitmaps, links,
 * cache entries) or the bytes of a freed slot, never what native code reads to write memory,
 * and each is undone before the heap is closed.
 */
class HeapVerifierTest {

    private static final int CLASS_64 = SizeClasses.classOf(64);

    private static SpanHeap heap(int shards, boolean checked, long sampleBytes) {
        return SpanHeap.create(SpanHeapConfig.builder().shards(shards).addressSpaceBytes(8L << 26).scavengerEnabled(false)
                .checked(checked).profileSampleBytes(sampleBytes).build());
    }

    /** A one-shard heap in the default mode, profiling off. */
    private static SpanHeap heap() {
        return heap(1, false, 0);
    }

    /** Asserts that the checks fail with a message holding {@code expected}. */
    private static void assertBroken(SpanHeap heap, String expected) {
        IllegalStateException e = assertThrows(IllegalStateException.class, heap::verifyInvariants);
        assertTrue(e.getMessage().startsWith("invariant broken: ") && e.getMessage().contains(expected),
                "expected \"" + expected + "\" in: " + e.getMessage());
    }

    /** The index in {@link ThreadCache#slots} of class {@code c}'s entry {@code i}. */
    private static int entry(int c, int i) {
        return (c << ThreadCache.CLASS_SHIFT) + i;
    }

    /** A slot of {@code span} that is not allocated. */
    private static int freeSlotOf(Span span) {
        for (int slot = 0; slot < span.capacity; slot++) {
            if (!span.isAllocated(slot)) {
                return slot;
            }
        }
        throw new AssertionError("span " + span + " is full");
    }

    // ---------------------------------------------------------------- the components' own checks

    /** A page-table entry of a span without samples that carries the sampled-span bit. */
    @Test
    void pageTableEntryWithAStraySampledBit() {
        try (SpanHeap heap = heap()) {
            long block = heap.allocateAddress(64);
            heap.verifyInvariants();
            Span span = heap.addressRange().spanAt(block);
            int[] pageInfo = heap.addressRange().pageInfo;
            int page = (int) span.firstPage;
            int saved = pageInfo[page];
            assertEquals(0, saved & PageHeap.SAMPLED_SPAN_BIT, "no sample, no bit");
            pageInfo[page] = saved | PageHeap.SAMPLED_SPAN_BIT;
            assertBroken(heap, "pageInfo of page " + page + " is " + (saved | PageHeap.SAMPLED_SPAN_BIT) + ", expected " + saved);
            pageInfo[page] = saved;
            heap.verifyInvariants();
            heap.freeAddress(block);
        }
    }

    /** The dedicated mappings' byte counter one OS page above what its mappings add up to. */
    @Test
    void dedicatedMappingsCounterOffByAPage() throws ReflectiveOperationException {
        try (SpanHeap heap = heap()) {
            long mapping = heap.allocateAddress(70L << 20);
            long mapped = heap.dedicatedMappings().at(mapping).mappedBytes();
            assertTrue(mapped >= 70L << 20);
            heap.verifyInvariants();
            Field counter = DedicatedMappings.class.getDeclaredField("mappedBytes");
            counter.setAccessible(true);
            counter.setLong(heap.dedicatedMappings(), mapped + OsMemory.OS_PAGE_SIZE);
            assertBroken(heap, "dedicated mappings add up to " + mapped + " bytes, counter says " + (mapped + OsMemory.OS_PAGE_SIZE));
            counter.setLong(heap.dedicatedMappings(), mapped);
            heap.verifyInvariants();
            heap.freeAddress(mapping);
        }
    }

    /** A central list's only partial span linked to itself: the walk finds more spans than the list has. */
    @Test
    void partialListLinkedIntoACycle() {
        try (SpanHeap heap = heap()) {
            long block = heap.allocateAddress(64);
            Span span = heap.addressRange().spanAt(block);
            assertTrue(span.inPartialList, "the cache took part of the span");
            assertNull(span.nextPartial, "the list's only span");
            span.nextPartial = span;
            assertBroken(heap, "class " + CLASS_64 + ": partial list is longer than the 1 spans (a cycle?)");
            span.nextPartial = null;
            heap.verifyInvariants();
            heap.freeAddress(block);
        }
    }

    // ---------------------------------------------------------------- samples

    /** A sampled large span counting two samples where the profile holds one (the profiler's own check). */
    @Test
    void sampledSpanCountingOneSampleTooMany() {
        try (SpanHeap heap = heap(1, false, 1)) {
            long large = heap.allocateAddress(100_000);
            Span span = heap.addressRange().spanAt(large);
            assertEquals(1, span.liveSamples, "an interval of one byte samples every block");
            heap.verifyInvariants();
            span.liveSamples = 2;
            assertBroken(heap, "span " + span + " counts 2 live samples, the profile holds 1");
            span.liveSamples = 1;
            heap.verifyInvariants();
            heap.freeAddress(large);
        }
    }

    /** Profiling off, a large span claiming a sample: the spans' total disagrees with the (absent) profile. */
    @Test
    void spanClaimingASampleWithNoProfile() {
        try (SpanHeap heap = heap()) {
            long large = heap.allocateAddress(100_000);
            Span span = heap.addressRange().spanAt(large);
            span.liveSamples = 1;
            assertBroken(heap, "spans count 1 live samples, the heap profile holds 0 in spans");
            span.liveSamples = 0;
            heap.verifyInvariants();
            heap.freeAddress(large);
        }
    }

    /** A sampled small block whose slot is marked free (bitmap and count agreeing, so the span's own check passes). */
    @Test
    void sampledBlockWhoseSlotIsMarkedFree() {
        try (SpanHeap heap = heap(1, false, 1)) {
            long block = heap.allocateAddress(64);
            assertTrue(Arrays.stream(heap.profiler().sampledSpanBlocks()).anyMatch(a -> a == block));
            Span span = heap.addressRange().spanAt(block);
            int slot = span.slotOf(block);
            span.allocated[slot >>> 6] &= ~(1L << slot);
            span.allocatedSlots--;
            assertBroken(heap, "sampled block " + Errors.hex(block) + " is not a live block of a span (found " + span + ")");
            span.allocated[slot >>> 6] |= 1L << slot;
            span.allocatedSlots++;
            heap.verifyInvariants();
            heap.freeAddress(block);
        }
    }

    /** A sampled block that is also a free entry of the thread cache; with the profile on, so its check must pass first. */
    @Test
    void sampledBlockInAThreadCache() {
        try (SpanHeap heap = heap(1, false, 1)) {
            long block = heap.allocateAddress(64);
            ThreadCache cache = heap.cacheRegistry().cacheForCurrentThread();
            assertTrue(cache.count(CLASS_64) >= 2);
            long saved = cache.slots[entry(CLASS_64, 0)];
            cache.slots[entry(CLASS_64, 0)] = block;
            assertBroken(heap, "sampled block " + Errors.hex(block) + " is a free slot in a thread cache");
            cache.slots[entry(CLASS_64, 0)] = saved;
            heap.verifyInvariants();
            heap.freeAddress(block);
        }
    }

    // ---------------------------------------------------------------- counts

    /** The range counting a page more held than the page heaps and mappings hold. */
    @Test
    void rangeCountingAPageTooMany() {
        try (SpanHeap heap = heap()) {
            long block = heap.allocateAddress(64);
            AddressRange range = heap.addressRange();
            long held = range.heldBytes();
            assertTrue(range.tryHold(SizeClasses.PAGE_SIZE));
            assertBroken(heap, "the range counts " + (held + SizeClasses.PAGE_SIZE) + " bytes held, page heaps and mappings hold " + held);
            range.unhold(SizeClasses.PAGE_SIZE);
            heap.verifyInvariants();
            heap.freeAddress(block);
        }
    }

    /** A span with one more slot marked allocated (bitmap and count agreeing) than its central list counts. */
    @Test
    void spanHoldingASlotItsCentralListDoesNotCount() {
        try (SpanHeap heap = heap()) {
            long block = heap.allocateAddress(64);
            Span span = heap.addressRange().spanAt(block);
            long listed = heap.centralLists().of(0, CLASS_64).snapshot().allocatedSlots();
            assertEquals(span.allocatedSlots, listed, "one span in the class");
            int slot = freeSlotOf(span);
            span.allocated[slot >>> 6] |= 1L << slot;
            span.allocatedSlots++;
            assertBroken(heap, "shard 0, class " + CLASS_64 + ": spans hold " + (listed + 1) + " allocated slots in 1 spans, central list counts "
                    + listed + " in 1");
            span.allocated[slot >>> 6] &= ~(1L << slot);
            span.allocatedSlots--;
            heap.verifyInvariants();
            heap.freeAddress(block);
        }
    }

    /**
     * Checked mode: slot 1 of a span written at offset 0 after its free. (Slot 0 and later
     * offsets are not enough: the check must look at every slot and count offset 0 as written.)
     */
    @Test
    void writeAtOffsetZeroOfAFreedSecondSlot() {
        try (SpanHeap heap = heap(1, true, 0)) {
            MemorySegment first = heap.allocate(64, 8);
            MemorySegment second = heap.allocate(64, 8);
            Span span = heap.addressRange().spanAt(second.address());
            assertEquals(0, span.slotOf(first.address()));
            assertEquals(1, span.slotOf(second.address()));
            heap.free(second);
            heap.verifyInvariants();
            second.set(ValueLayout.JAVA_LONG, 0, 42);
            assertBroken(heap, "free slot " + Errors.hex(second.address()) + " of " + span + " was written after free (offset 0)");
            // The allocation that finds it quarantines the slot; the checks pass from then on.
            assertThrows(IllegalStateException.class, () -> heap.allocate(64, 8));
            heap.verifyInvariants();
            heap.free(first);
        }
    }

    /**
     * Checked mode: a quarantined slot (allocated in its span, never to be handed out) put in a
     * thread cache, as a stack entry and as a remote-buffer entry: the class then has one cached
     * slot and none allocated outside the quarantine.
     */
    @Test
    void quarantinedSlotInACacheIsMoreCachedThanAllocated() {
        try (SpanHeap heap = heap(2, true, 0)) {
            MemorySegment block = heap.allocate(64, 8);
            long address = block.address();
            int shard = heap.addressRange().spanAt(address).listShard;
            heap.free(block);
            block.set(ValueLayout.JAVA_LONG, 0, 42);
            assertThrows(IllegalStateException.class, () -> heap.allocate(64, 8));
            CentralList.Snapshot list = heap.centralLists().of(shard, CLASS_64).snapshot();
            assertEquals(1, list.allocatedSlots());
            assertEquals(1, list.quarantinedSlots());
            heap.verifyInvariants();
            String expected = "class " + CLASS_64 + ": 1 cached slots but only 0 allocated";

            ThreadCache any = heap.cacheRegistry().withEveryCache(all -> all.getFirst());
            assertEquals(0, any.count(CLASS_64), "checked mode caches nothing");
            assertTrue(any.push(CLASS_64, address));
            assertBroken(heap, expected);
            assertEquals(address, any.pop(CLASS_64));
            heap.verifyInvariants();

            ThreadCache otherShard = heap.cacheRegistry().withEveryCache(
                    all -> all.stream().filter(c -> c.shard != shard).findFirst().orElseThrow());
            otherShard.remote[0] = address;
            otherShard.remoteCount = 1;
            assertBroken(heap, expected);
            otherShard.remoteCount = 0;
            heap.verifyInvariants();
        }
    }

    // ---------------------------------------------------------------- thread caches

    /** A thread cache whose count for a class is one above the class's capacity. */
    @Test
    void cacheHoldingMoreThanItsCapacity() {
        try (SpanHeap heap = heap()) {
            long block = heap.allocateAddress(64);
            ThreadCache cache = heap.cacheRegistry().cacheForCurrentThread();
            int index = ThreadCache.PAD + CLASS_64;
            long saved = cache.state[index];
            int capacity = ThreadCache.CAPACITY[CLASS_64];
            cache.state[index] = (saved & ~ThreadCache.COUNT_MASK) | (capacity + 1);
            assertEquals(capacity + 1, cache.count(CLASS_64));
            assertBroken(heap, "a thread cache holds " + (capacity + 1) + " slots of class " + CLASS_64 + " (capacity " + capacity + ")");
            cache.state[index] = saved;
            heap.verifyInvariants();
            heap.freeAddress(block);
        }
    }

    /** Cache entries that are not a slot start, a slot marked free, and one slot twice. */
    @Test
    void cacheEntriesThatAreNotFreeSlotsOfTheirClass() {
        try (SpanHeap heap = heap()) {
            long block = heap.allocateAddress(64);
            Span span = heap.addressRange().spanAt(block);
            ThreadCache cache = heap.cacheRegistry().cacheForCurrentThread();
            assertTrue(cache.count(CLASS_64) >= 2);
            // Entries 0 and 1 lie below the top of the stack, which the cache keeps apart.
            long saved0 = cache.slots[entry(CLASS_64, 0)];
            long saved1 = cache.slots[entry(CLASS_64, 1)];
            long slot1 = saved1 & ~1L;

            long inside = (saved0 & ~1L) + 8;
            cache.slots[entry(CLASS_64, 0)] = inside;
            assertBroken(heap, "cached slot " + Errors.hex(inside) + " of class " + CLASS_64 + " is not a slot of a class-" + CLASS_64 + " span");

            long free = span.slotAddress(freeSlotOf(span));
            cache.slots[entry(CLASS_64, 0)] = free;
            assertBroken(heap, "cached slot " + Errors.hex(free) + " is marked free in its span " + span);

            cache.slots[entry(CLASS_64, 0)] = slot1;
            assertBroken(heap, "slot " + Errors.hex(slot1) + " is cached twice");

            cache.slots[entry(CLASS_64, 0)] = saved0;
            heap.verifyInvariants();
            heap.freeAddress(block);
        }
    }

    /**
     * Two shards: 256 blocks of 16 bytes (slots sharing cache lines) allocated on the other shard
     * and freed here fill this thread's remote buffer exactly, slot 0 of their span among them,
     * which is a valid state; then the buffer's count past its capacity, an entry that is a free
     * slot, an entry of the cache's own shard, and one slot twice.
     */
    @Test
    void remoteBufferFullThenCorrupted() throws Exception {
        try (SpanHeap heap = heap(2, false, 0)) {
            long own = heap.allocateAddress(64); // binds this thread to a shard
            ThreadCache cache = heap.cacheRegistry().cacheForCurrentThread();
            long[] theirs = new long[ThreadCache.REMOTE_CAPACITY];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < theirs.length; i++) {
                        theirs[i] = heap.allocateAddress(16);
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            other.join();
            assertNull(failure.get());
            Span theirSpan = heap.addressRange().spanAt(theirs[0]);
            assertNotEquals(cache.shard, theirSpan.listShard, "two live threads, two shards");
            assertTrue(Arrays.stream(theirs).anyMatch(a -> a == theirSpan.start), "slot 0 of the span is among them");
            for (long address : theirs) {
                heap.freeAddress(address);
            }
            assertEquals(ThreadCache.REMOTE_CAPACITY, cache.remoteCount, "the buffer is flushed only when a push finds it full");
            heap.verifyInvariants();

            cache.remoteCount = ThreadCache.REMOTE_CAPACITY + 1;
            assertBroken(heap, "a thread cache's remote buffer holds " + (ThreadCache.REMOTE_CAPACITY + 1) + " slots (capacity "
                    + ThreadCache.REMOTE_CAPACITY + ")");
            cache.remoteCount = ThreadCache.REMOTE_CAPACITY;

            long saved0 = cache.remote[0];
            long free = theirSpan.slotAddress(freeSlotOf(theirSpan));
            cache.remote[0] = free;
            assertBroken(heap, "remote-buffered slot " + Errors.hex(free) + " is not an allocated slot of a span");
            cache.remote[0] = own;
            assertBroken(heap, "remote-buffered slot " + Errors.hex(own) + " belongs to the cache's own shard " + cache.shard);
            cache.remote[0] = cache.remote[1];
            assertBroken(heap, "slot " + Errors.hex(cache.remote[1] & ~1L) + " is cached twice");
            cache.remote[0] = saved0;
            heap.verifyInvariants();
            heap.freeAddress(own);
        }
    }
}
