package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heap's JFR events ({@link HeapEvents}), read back from a real recording and compared with
 * the heap's own {@link HeapStats}: what a user sees in {@code jfr print} must be the figures the
 * heap counts, not just events that exist. Heaps have names of their own, so events of heaps made
 * by other tests in the same JVM are left out.
 */
class FlightRecorderEventsTest {

    private static final long MIB = 1L << 20;
    private static final String PREFIX = "jfr-test-" + ProcessHandle.current().pid() + "-";

    @Test
    void recordingShowsArenasReleasesTheLimitAndSummaries(@TempDir Path dir) throws Exception {
        String mapping = PREFIX + "explicit";
        String limited = PREFIX + "limited";
        String scavenged = PREFIX + "scavenged";
        HeapStats mappingAtRest;
        HeapStats limitedAtEnd;
        HeapStats scavengedAtEnd;
        long explicitlyReleased;
        OutOfMemoryError refused;
        Instant closedAt;
        Path file = dir.resolve("spanheap.jfr");
        // A heap before the recorder starts, as in a process that opens one before a JFR.start: the
        // events get ready when the recorder does.
        SpanHeap.create(SpanHeapConfig.builder().name(PREFIX + "before").scavengerEnabled(false).build()).close();
        try (Recording recording = new Recording()) {
            assertTrue(HeapEvents.recorderReady(), "the recorder's start readies the events");
            for (String event : List.of("ArenaMapped", "MemoryReleased", "LimitReached", "OutOfMemory")) {
                recording.enable("dev.spanheap." + event);
            }
            recording.enable("dev.spanheap.HeapSummary").withPeriod(Duration.ofMillis(100));
            recording.start();

            // Two arenas' worth of large objects, freed and released explicitly; two objects stay live.
            SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name(mapping).scavengerEnabled(false).build());
            List<MemorySegment> blocks = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                blocks.add(heap.allocate(2 * MIB, 8));
            }
            MemorySegment keptSmall = heap.allocate(64, 8);
            MemorySegment keptLarge = heap.allocate(100_000, 8);
            blocks.forEach(heap::free);
            explicitlyReleased = heap.releaseFreeMemory();
            assertTrue(explicitlyReleased >= 40 * 2 * MIB, "released " + explicitlyReleased);
            // At rest for several summary periods, so that the last summaries see these figures.
            Thread.sleep(600);
            mappingAtRest = heap.stats();
            assertTrue(keptSmall.byteSize() + keptLarge.byteSize() > 0);
            heap.close();
            closedAt = Instant.now();

            // A limit of 6.5 MiB: frees leave a dirty run that the limit forces out, then a refusal.
            try (SpanHeap small = SpanHeap.create(SpanHeapConfig.builder().name(limited).scavengerEnabled(false)
                    .maxHeapBytes(6 * MIB + MIB / 2).build())) {
                MemorySegment a = small.allocate(2 * MIB, 8);
                MemorySegment b = small.allocate(2 * MIB, 8);
                MemorySegment c = small.allocate(2 * MIB, 8);
                small.free(a);
                small.free(c);
                // Best fit starts at c's dirty pages and needs 1 MiB clean: 6 + 1 > 6.5 MiB held.
                MemorySegment d = small.allocate(3 * MIB, 8);
                assertEquals(5 * MIB, small.stats().heldBytes());
                refused = assertThrows(OutOfMemoryError.class, () -> small.allocate(2 * MIB, 8));
                limitedAtEnd = small.stats();
                small.free(b);
                small.free(d);
            }

            // The scavenger, told to release everything idle at once.
            try (SpanHeap swept = SpanHeap.create(SpanHeapConfig.builder().name(scavenged)
                    .scavengerDelay(Duration.ZERO).scavengerRetainRatio(0).build())) {
                swept.free(swept.allocate(4 * MIB, 8));
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (swept.stats().releasedBytesTotal() < 4 * MIB && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                scavengedAtEnd = swept.stats();
            }
            // Long enough for summaries after the close, if the closed heap were still summarised.
            Thread.sleep(400);
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);

        // ArenaMapped: one per arena reservation the heap counts, in index order, 64 MiB each.
        List<RecordedEvent> arenas = of(events, "dev.spanheap.ArenaMapped", mapping);
        assertEquals(mappingAtRest.arenaReservations(), arenas.size());
        assertTrue(arenas.size() >= 2, "80 MiB of blocks take two arenas, mapped " + arenas.size());
        for (int i = 0; i < arenas.size(); i++) {
            RecordedEvent arena = arenas.get(i);
            assertEquals(i, arena.getInt("arenaIndex"));
            assertEquals(HeapArena.BYTES, arena.getLong("bytes"));
            assertEquals(0, arena.getLong("baseAddress") & (HeapArena.BYTES - 1), "arenas are 64 MiB-aligned");
            if (i > 0) {
                assertEquals(arenas.get(i - 1).getLong("baseAddress") + HeapArena.BYTES, arena.getLong("baseAddress"));
            }
        }
        assertEquals(1, of(events, "dev.spanheap.ArenaMapped", limited).size());

        // MemoryReleased, explicit: one event with what releaseFreeMemory returned, which is all
        // the heap ever released (its scavenger is off).
        List<RecordedEvent> explicit = of(events, "dev.spanheap.MemoryReleased", mapping);
        assertEquals(1, explicit.size());
        assertEquals("explicit", explicit.get(0).getString("cause"));
        assertEquals(explicitlyReleased, explicit.get(0).getLong("bytes"));
        assertEquals(mappingAtRest.releasedBytesTotal(), explicit.get(0).getLong("bytes"));

        // The limit: the 3 MiB request found 6 MiB held and released a's 2 MiB; the 2 MiB request
        // found 5 MiB held, released nothing, and reached the caller as one OutOfMemory.
        List<RecordedEvent> limits = of(events, "dev.spanheap.LimitReached", limited);
        assertTrue(limits.size() >= 2, "limit events: " + limits.size());
        assertLimit(limits.get(0), 3 * MIB, 6 * MIB);
        for (RecordedEvent later : limits.subList(1, limits.size())) {
            assertLimit(later, 2 * MIB, 5 * MIB);
        }
        List<RecordedEvent> limitReleases = of(events, "dev.spanheap.MemoryReleased", limited);
        assertEquals(1, limitReleases.size());
        assertEquals("limit", limitReleases.get(0).getString("cause"));
        assertEquals(2 * MIB, limitReleases.get(0).getLong("bytes"));
        assertEquals(limitedAtEnd.releasedBytesTotal(), limitReleases.get(0).getLong("bytes"));
        List<RecordedEvent> oom = of(events, "dev.spanheap.OutOfMemory", limited);
        assertEquals(1, oom.size());
        assertEquals(2 * MIB, oom.get(0).getLong("requestBytes"));
        assertEquals(6 * MIB + MIB / 2, oom.get(0).getLong("limitBytes"));
        assertEquals(5 * MIB, oom.get(0).getLong("heldBytes"));
        assertEquals(refused.getMessage(), oom.get(0).getString("message"));
        assertTrue(of(events, "dev.spanheap.OutOfMemory", mapping).isEmpty());

        // The scavenger's passes add up to what the heap counts as released.
        List<RecordedEvent> sweeps = of(events, "dev.spanheap.MemoryReleased", scavenged);
        assertFalse(sweeps.isEmpty());
        long swept = 0;
        for (RecordedEvent sweep : sweeps) {
            assertEquals("scavenger", sweep.getString("cause"));
            assertTrue(sweep.getLong("bytes") > 0);
            swept += sweep.getLong("bytes");
        }
        assertEquals(scavengedAtEnd.releasedBytesTotal(), swept);

        // HeapSummary: every 100 ms while the heap was open; the last ones see the heap at rest,
        // exactly as stats() does; none after the close.
        List<RecordedEvent> summaries = of(events, "dev.spanheap.HeapSummary", mapping);
        assertTrue(summaries.size() >= 2, "summaries: " + summaries.size());
        for (RecordedEvent summary : summaries) {
            assertTrue(summary.getLong("allocatedBytes") <= summary.getLong("heldBytes"));
            assertTrue(summary.getLong("heldBytes") <= summary.getLong("reservedBytes"));
            assertEquals(Long.MAX_VALUE, summary.getLong("maxHeapBytes"));
            assertFalse(summary.getStartTime().isAfter(closedAt.plusMillis(50)), "summary of a closed heap");
        }
        RecordedEvent last = summaries.get(summaries.size() - 1);
        assertEquals(mappingAtRest.heldBytes(), last.getLong("heldBytes"));
        assertEquals(mappingAtRest.allocatedBytes(), last.getLong("allocatedBytes"));
        assertEquals(mappingAtRest.liveObjects(), last.getLong("liveObjects"));
        assertEquals(2, last.getLong("liveObjects"));
        assertEquals(mappingAtRest.cachedBytes(), last.getLong("cachedBytes"));
        assertEquals(mappingAtRest.reservedBytes(), last.getLong("reservedBytes"));
        assertEquals(mappingAtRest.releasedBytesTotal(), last.getLong("releasedBytesTotal"));
        assertEquals(mappingAtRest.arenas(), last.getInt("arenas"));
        assertEquals(mappingAtRest.externalFragmentation(), last.getDouble("externalFragmentation"), 1e-12);
        assertEquals(mappingAtRest.smallFragmentation(), last.getDouble("smallFragmentation"), 1e-12);
    }

    @Test
    void summariesDoNotKeepADroppedHeapAlive() throws Exception {
        // Not closed on purpose (its small address range stays reserved): only the collector can end it.
        int withDropped = OpenHeaps.size() + 1;
        WeakReference<SpanHeap> dropped = new WeakReference<>(SpanHeap.create(SpanHeapConfig.builder()
                .name(PREFIX + "dropped").scavengerEnabled(false).addressSpaceBytes(HeapArena.BYTES).build()));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (dropped.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(dropped.get(), "the open-heap registry kept a dropped heap reachable");
        // Its entry goes with a later registration, once the collector has queued the reference.
        boolean purged = false;
        while (!purged && System.nanoTime() < deadline) {
            SpanHeap.create(SpanHeapConfig.builder().name(PREFIX + "next").scavengerEnabled(false).build()).close();
            purged = OpenHeaps.size() < withDropped;
            Thread.sleep(10);
        }
        assertTrue(purged, "the dropped heap's entry is still registered: " + OpenHeaps.size() + " entries");
    }

    private static void assertLimit(RecordedEvent event, long requestBytes, long heldBytes) {
        assertEquals(requestBytes, event.getLong("requestBytes"));
        assertEquals(6 * MIB + MIB / 2, event.getLong("limitBytes"));
        assertEquals(heldBytes, event.getLong("heldBytes"));
    }

    /** Every allocation the heap profile samples goes out as an AllocationSample event with its sizes and address. */
    @Test
    void sampledAllocationsAreRecordedAsAllocationSamples(@TempDir Path dir) throws Exception {
        String name = PREFIX + "sampled";
        Path file = dir.resolve("samples.jfr");
        List<Long> addresses = new ArrayList<>();
        try (Recording recording = new Recording()) {
            recording.enable("dev.spanheap.AllocationSample").withStackTrace();
            recording.start();
            // A sample interval of one byte: every allocation is sampled.
            try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().name(name).scavengerEnabled(false)
                    .profileSampleBytes(1).build())) {
                for (int i = 0; i < 20; i++) {
                    addresses.add(heap.allocateAddress(100));
                }
                addresses.add(heap.allocateAddress(100_000));
                assertEquals(21, heap.profile().samplesTaken());
                addresses.forEach(heap::freeAddress);
            }
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> samples = of(RecordingFile.readAllEvents(file), "dev.spanheap.AllocationSample", name);
        assertEquals(21, samples.size(), "one event per sample");
        for (int i = 0; i < 20; i++) {
            RecordedEvent e = samples.get(i);
            assertEquals(100, e.getLong("requestedBytes"));
            assertEquals(SizeClasses.SLOT_SIZE[SizeClasses.classOf(100)], e.getLong("slotBytes"));
            assertEquals(SizeClasses.classOf(100), e.getInt("sizeClass"));
            assertEquals((long) addresses.get(i), e.getLong("address"));
            assertTrue(e.getStackTrace() != null && !e.getStackTrace().getFrames().isEmpty(), "with a stack trace");
        }
        RecordedEvent large = samples.get(20);
        assertEquals(100_000, large.getLong("requestedBytes"));
        assertEquals(0, large.getInt("sizeClass"));
        assertEquals((long) addresses.get(20), large.getLong("address"));
    }

    private static List<RecordedEvent> of(List<RecordedEvent> events, String type, String heap) {
        return events.stream()
                .filter(e -> e.getEventType().getName().equals(type) && heap.equals(e.getString("heap")))
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime))
                .toList();
    }
}
