package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link SpanHeap#leakReport()} counts exactly what is left allocated, by size class, with large
 * objects and dedicated mappings apart, and leaves out the chunks the heap holds for its own
 * stacks; its text names the figures and, with the profile on, the sites; and
 * {@code reportLeaksOnClose} logs it on close, while the heap can still be read, then closes the
 * heap as usual.
 */
class LeakReportTest {

    private static final long DEDICATED_SIZE = HeapProbe.ARENA_BYTES + 1;

    private static SpanHeapConfig.Builder config(String name) {
        return SpanHeapConfig.builder().name(name).addressSpaceBytes(1L << 30).scavengerEnabled(false);
    }

    private static LeakReport.Group slots(int requestBytes, long objects) {
        int sizeClass = SizeClasses.classOf(requestBytes);
        int slotSize = SizeClasses.SLOT_SIZE[sizeClass];
        return new LeakReport.Group(LeakReport.Kind.SIZE_CLASS, sizeClass, slotSize, objects, objects * slotSize);
    }

    @Test
    void leftoverObjectsAreCountedExactlyBySizeClassWithLargeAndDedicatedApart() {
        try (SpanHeap heap = SpanHeap.create(config("leftovers").build())) {
            List<MemorySegment> freed = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                heap.allocate(100); // 112-byte slots, left allocated
                freed.add(heap.allocate(100));
            }
            for (int i = 0; i < 5; i++) {
                heap.allocate(4000); // 4096-byte slots
            }
            freed.add(heap.allocate(20_000));
            heap.allocate(40_000); // large: 5 pages
            freed.add(heap.allocate(50_000));
            heap.allocate(DEDICATED_SIZE);
            freed.forEach(heap::free);

            HeapStats stats = heap.stats();
            LeakReport report = heap.leakReport();
            assertEquals(List.of(
                    slots(100, 3),
                    slots(4000, 5),
                    new LeakReport.Group(LeakReport.Kind.LARGE, 0, 0, 1, 5 * HeapProbe.PAGE_BYTES),
                    new LeakReport.Group(LeakReport.Kind.DEDICATED, 0, 0, 1, stats.dedicatedBytes())),
                    report.groups(), "groups, smallest slots first; freed objects are not in them");
            assertTrue(stats.dedicatedBytes() >= DEDICATED_SIZE, "the mapping covers the object: " + stats);
            assertEquals(10, report.liveObjects());
            assertEquals(stats.liveObjects(), report.liveObjects(), "no stack chunks here: the totals are the statistics'");
            assertEquals(stats.allocatedBytes(), report.liveBytes());
            assertEquals(0, report.stackChunks());
            assertTrue(report.hasLeaks());
            assertEquals("leftovers", report.heapName());
            assertEquals(0, report.profileSampleBytes());
            assertTrue(report.sites().isEmpty());

            String text = report.format();
            assertTrue(text.startsWith("LEAK: SpanHeap \"leftovers\" has 10 objects (" + HeapReport.bytes(report.liveBytes())
                    + ") still allocated."), text);
            assertTrue(text.matches("(?s).*112-byte slots \\(class \\d+\\) +3 +336 B\n.*"), text);
            assertTrue(text.matches("(?s).*4096-byte slots \\(class \\d+\\) +5 +20.0 KiB\n.*"), text);
            assertTrue(text.matches("(?s).*large \\(whole pages\\) +1 +40.0 KiB\n.*"), text);
            assertTrue(text.matches("(?s).*dedicated \\(own mapping\\) +1 +64.\\d+ MiB\n.*"), text);
            assertTrue(text.contains("the heap profile is off") && text.contains("profileSampleBytes(512 * 1024)"),
                    "says how to get the allocation sites: " + text);
            assertEquals(text, report.toString());
            HeapProbe.verify(heap);
        }
    }

    @Test
    void aHeapWithEverythingFreedHasNoLeaks() {
        try (SpanHeap heap = SpanHeap.create(config("clean").build())) {
            heap.free(heap.allocate(64));
            heap.free(heap.allocate(100_000));
            LeakReport report = heap.leakReport();
            assertFalse(report.hasLeaks());
            assertEquals(List.of(), report.groups());
            assertEquals(0, report.liveBytes());
            assertEquals("SpanHeap \"clean\" has no objects still allocated.\n", report.format());
        }
    }

    @Test
    void theHeapsOwnStackChunksAreLeftOutAndCountedApart() {
        try (SpanHeap heap = SpanHeap.create(config("stacks").build())) {
            try (Arena arena = heap.newConfinedArena()) {
                // 500 KB of frames: chunks of 8, 16 and 32 KiB (slots) and 64 KiB (large objects).
                for (int i = 0; i < 50; i++) {
                    arena.allocate(10_000).set(ValueLayout.JAVA_INT, 0, i);
                }
                HeapStats stats = heap.stats();
                LeakReport report = heap.leakReport();
                assertTrue(stats.largeObjects() > 0 && stats.liveObjects() > 4, "the stack took large chunks: " + stats);
                assertFalse(report.hasLeaks(), "stack chunks are not leaks: " + report);
                assertEquals(List.of(), report.groups());
                assertEquals(stats.liveObjects(), report.stackChunks(), "every live object is a stack chunk");
                assertEquals(stats.allocatedBytes(), report.stackChunkBytes());
                assertEquals(stats.stack().chunks() + stats.stack().pooledChunks(), report.stackChunks());
                assertTrue(report.format().contains("Not counted: " + report.stackChunks() + " chunks"), report.format());
                // A large object of the caller's beside the stack's 64 KiB chunks: its pages alone are the large group.
                MemorySegment large = heap.allocate(5 * HeapProbe.PAGE_BYTES);
                assertEquals(List.of(new LeakReport.Group(LeakReport.Kind.LARGE, 0, 0, 1, 5 * HeapProbe.PAGE_BYTES)),
                        heap.leakReport().groups(), "the stack's large chunks are neither counted nor their bytes added");
                heap.free(large);
            }
            MemorySegment leaked = heap.allocate(1000);
            LeakReport report = heap.leakReport();
            HeapStats stats = heap.stats();
            assertEquals(2, report.stackChunks(), "the first chunk and a spare stay with the thread");
            assertEquals((8 << 10) + (16 << 10), report.stackChunkBytes());
            assertEquals(List.of(slots(1000, 1)), report.groups(), "only the caller's object is a leak");
            assertEquals(stats.liveObjects(), report.liveObjects() + report.stackChunks());
            assertEquals(stats.allocatedBytes(), report.liveBytes() + report.stackChunkBytes());
            heap.free(leaked);
        }
    }

    @Test
    void sitesAreTheProfilesLiveOnesMostLiveBytesFirstAndTheTextShowsTheTopTen() {
        try (SpanHeap heap = SpanHeap.create(config("sites").build())) {
            heap.allocate(4000);
            List<ProfileSite> profiled = new ArrayList<>();
            profiled.add(new ProfileSite(List.of(new StackTraceElement("com.acme.Cache", "fill", "Cache.java", 88)), 0, 0, 40, 4000));
            for (int i = 1; i <= 12; i++) {
                List<StackTraceElement> stack = new ArrayList<>();
                for (int depth = 0; depth < 20; depth++) {
                    stack.add(new StackTraceElement("com.acme.Site" + i, "level" + depth, "Site" + i + ".java", depth + 1));
                }
                profiled.add(new ProfileSite(stack, i, i * 1000L, i, i * 1000L));
            }
            HeapProfile profile = new HeapProfile(512 * 1024, 30, profiled);
            LeakReport report = LeakReport.of("sites", heap.stats(), new long[4], profile);

            assertEquals(12, report.sites().size(), "the site with nothing live is left out");
            for (int i = 0; i < 12; i++) {
                assertEquals((12 - i) * 1000L, report.sites().get(i).liveBytes(), "most live bytes first, at " + i);
            }
            String text = report.format();
            assertTrue(text.contains("Allocation sites of the live objects (sampled, one per 512.0 KiB allocated on average"), text);
            assertTrue(text.contains("  #1 11.7 KiB in 12 objects\n      at com.acme.Site12.level0(Site12.java:1)\n"), text);
            assertTrue(text.contains("  #10 2.93 KiB in 3 objects\n"), text);
            assertFalse(text.contains("#11"), "ten sites shown: " + text);
            assertTrue(text.contains("  ... 2 more sites with 2.93 KiB in 3 objects\n"), text);
            assertTrue(text.contains("at com.acme.Site12.level15(Site12.java:16)\n      ... 4 more frames\n"), text);
            assertFalse(text.contains("level16"), "sixteen frames a site: " + text);
            assertFalse(text.contains("Cache.fill"), text);

            LeakReport unsampled = LeakReport.of("sites", heap.stats(), new long[4], new HeapProfile(1 << 20, 0, List.of()));
            assertTrue(unsampled.format().contains("none of the live objects was sampled (one sample per 1.00 MiB"),
                    unsampled.format());
        }
    }

    /** Collects what is logged on logger {@code dev.spanheap} about heap {@code heapName}. */
    private static final class LogCapture extends Handler implements AutoCloseable {
        private final String heapName;
        private final Logger logger = Logger.getLogger("dev.spanheap");
        final List<LogRecord> records = new CopyOnWriteArrayList<>();

        LogCapture(String heapName) {
            this.heapName = heapName;
            logger.addHandler(this);
        }

        @Override
        public void publish(LogRecord record) {
            if (record.getMessage() != null && record.getMessage().contains("\"" + heapName + "\"")) {
                records.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    @Test
    void closeLogsTheReportBeforeUnmappingAndStillClosesTheHeap() {
        try (LogCapture log = new LogCapture("closing-leaky")) {
            SpanHeap heap = SpanHeap.create(config("closing-leaky").reportLeaksOnClose(true).build());
            MemorySegment small = heap.allocate(24);
            heap.allocate(200_000);
            String expected = heap.leakReport().formatAtClose();
            heap.close();

            assertTrue(heap.isClosed());
            assertThrows(IllegalStateException.class, () -> small.get(ValueLayout.JAVA_BYTE, 0),
                    "the leaked memory went with the heap");
            assertThrows(IllegalStateException.class, heap::leakReport);
            assertEquals(1, log.records.size(), "one warning: " + log.records);
            LogRecord warning = log.records.getFirst();
            assertEquals(java.util.logging.Level.WARNING, warning.getLevel());
            assertEquals(expected, warning.getMessage(), "the report of the heap as it was at close");
            assertTrue(warning.getMessage().startsWith(
                    "LEAK: SpanHeap \"closing-leaky\" closed with 2 objects (200.0 KiB) still allocated;"
                            + " their memory is unmapped with the heap.\n"), warning.getMessage());
            heap.close();
            assertEquals(1, log.records.size(), "a second close does nothing");
        }
    }

    @Test
    void closeLogsNothingWithoutLeaksOrWithoutTheOption() {
        try (LogCapture clean = new LogCapture("closing-clean"); LogCapture quiet = new LogCapture("closing-quiet")) {
            try (SpanHeap heap = SpanHeap.create(config("closing-clean").reportLeaksOnClose(true).build())) {
                heap.free(heap.allocate(24));
                try (Arena arena = heap.newConfinedArena()) {
                    arena.allocate(100); // the thread keeps a stack chunk: not a leak
                }
            }
            try (SpanHeap heap = SpanHeap.create(config("closing-quiet").build())) {
                heap.allocate(24);
            }
            assertEquals(List.of(), clean.records, "nothing live but the heap's own stack chunk");
            assertEquals(List.of(), quiet.records, "reportLeaksOnClose is off by default");
        }
    }

    /** Allocates the block the next test leaks, from a method whose name only that test uses. */
    private static MemorySegment allocateFromLeakyOrderParserForLeakReportTest(SpanHeap heap) {
        return heap.allocate(3000);
    }

    /**
     * With every allocation sampled, the report names the method that allocated the leaked block.
     * Needs the heap profile's sampling; skipped, saying so, while {@link SpanHeap#profile()} takes
     * no samples.
     */
    @Test
    void theReportNamesTheSiteOfADeliberatelyLeakedAllocation() {
        try (LogCapture log = new LogCapture("leak-site")) {
            SpanHeap heap = SpanHeap.create(config("leak-site").profileSampleBytes(1).reportLeaksOnClose(true).build());
            boolean sampled;
            try {
                heap.free(heap.allocate(3000));
                allocateFromLeakyOrderParserForLeakReportTest(heap);
                sampled = heap.profile().samplesTaken() > 0;
                if (sampled) {
                    String text = heap.leakReport().format();
                    assertTrue(text.contains("#1 ") && text.contains(
                            "LeakReportTest.allocateFromLeakyOrderParserForLeakReportTest(LeakReportTest.java:"), text);
                    assertTrue(text.contains("in 1 object\n"), text);
                }
            } finally {
                heap.close();
            }
            Assumptions.assumeTrue(sampled, "skipped: SpanHeap.profile() took no samples with profileSampleBytes(1);"
                    + " the heap profile's sampling is not in this build yet");
            assertEquals(1, log.records.size());
            assertTrue(log.records.getFirst().getMessage().contains("allocateFromLeakyOrderParserForLeakReportTest"),
                    log.records.getFirst().getMessage());
        }
    }

    @Test
    void theTextShowsEachSectionAndCountsWhatItCutsAtTheLimits() {
        List<LeakReport.Group> groups = List.of(new LeakReport.Group(LeakReport.Kind.SIZE_CLASS, 2, 16, 3, 48),
                new LeakReport.Group(LeakReport.Kind.LARGE, 0, 0, 1, 40_960));
        java.util.function.IntFunction<List<StackTraceElement>> frames = n -> java.util.stream.IntStream.range(0, n)
                .mapToObj(f -> new StackTraceElement("app.Leaky", "frame" + f, "Leaky.java", f + 1)).toList();
        // Exactly as many sites and frames as the text shows: nothing is counted as cut.
        List<ProfileSite> atLimit = new java.util.ArrayList<>();
        for (int i = 0; i < LeakReport.SITES_SHOWN; i++) {
            atLimit.add(new ProfileSite(i == 0 ? frames.apply(LeakReport.FRAMES_SHOWN) : i == 1 ? List.of() : frames.apply(1),
                    1, 1000 - i, 1, 1000 - i));
        }
        String full = new LeakReport("fmt", groups, 2, 16_384, 4096, atLimit).format();
        List<String> lines = full.lines().toList();
        assertEquals("LEAK: SpanHeap \"fmt\" has 4 objects (40.0 KiB) still allocated.", lines.get(0));
        assertEquals("Live objects by size:", lines.get(1));
        assertTrue(lines.get(2).trim().matches("objects\\s+bytes"), lines.get(2));
        assertTrue(lines.get(3).matches("  16-byte slots \\(class 2\\)\\s+3\\s+48 B"), lines.get(3));
        assertTrue(lines.get(4).matches("  large \\(whole pages\\)\\s+1\\s+40.0 KiB"), lines.get(4));
        assertEquals(LeakReport.FRAMES_SHOWN + (LeakReport.SITES_SHOWN - 2), full.lines().filter(l -> l.startsWith("      at app.Leaky.frame")).count(),
                "every frame of the first site, and the one frame of each site after the empty one");
        assertFalse(full.contains("more frame"), full);
        assertFalse(full.contains("more site"), full);
        assertEquals(1, full.lines().filter(l -> l.equals("      (no stack recorded)")).count(), "the site without a stack says so");
        assertTrue(lines.getLast().startsWith("Not counted: 2 "), "the stack chunks come last: " + lines.getLast());

        // One more of each: the text counts the frame and the site it leaves out.
        List<ProfileSite> past = new java.util.ArrayList<>(atLimit);
        past.set(0, new ProfileSite(frames.apply(LeakReport.FRAMES_SHOWN + 1), 1, 1000, 1, 1000));
        past.add(new ProfileSite(frames.apply(1), 2, 7, 2, 7));
        String cut = new LeakReport("fmt", groups, 0, 0, 4096, past).format();
        assertTrue(cut.contains("      ... 1 more frame\n"), cut);
        assertTrue(cut.contains("  ... 1 more site with 7 B in 2 objects\n"), cut);
        assertFalse(cut.contains("Not counted"), "no stack chunks, no line for them: " + cut);
    }
}
