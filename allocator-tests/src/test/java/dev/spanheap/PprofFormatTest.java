package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnknownFieldSet;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HeapProfile#writePprof} writes a file that a protobuf reader takes for a pprof
 * {@code Profile} with Go's heap layout: read back here with protobuf-java's generic parser (no
 * generated classes, no code shared with the writer), every figure and frame of the sites given
 * comes back, through the string table, the locations and the functions. When Go's pprof is
 * installed, it reads the file too.
 */
class PprofFormatTest {

    private static final StackTraceElement ORDER_ALLOCATE = frame("com.acme.orders.OrderBook", "allocate", "OrderBook.java", 42);
    private static final StackTraceElement ORDER_ALLOCATE_OTHER_LINE = frame("com.acme.orders.OrderBook", "allocate", "OrderBook.java", 57);
    private static final StackTraceElement ORDER_ADD = frame("com.acme.orders.OrderBook", "add", "OrderBook.java", 19);
    private static final StackTraceElement MAIN = frame("com.acme.Main", "main", "Main.java", 7);
    private static final StackTraceElement CODEC = frame("com.acme.net.Codec$Frame", "decode", "Codec.java", 311);
    private static final StackTraceElement NATIVE = frame("com.acme.net.Native", "poll", null, -2);

    private static StackTraceElement frame(String className, String method, String file, int line) {
        return new StackTraceElement(className, method, file, line);
    }

    /** Three sites that share frames (so locations and functions must be shared), one with an unknown file and line. */
    private static HeapProfile threeSites() {
        return new HeapProfile(512 * 1024, 77, List.of(
                new ProfileSite(List.of(ORDER_ALLOCATE, ORDER_ADD, MAIN), 3, 12_288, 10, 40_960),
                new ProfileSite(List.of(ORDER_ALLOCATE_OTHER_LINE, ORDER_ADD, MAIN), 1, 100_000, 2, 200_000),
                new ProfileSite(List.of(NATIVE, CODEC, MAIN), 0, 0, 5_000, 2_560_000)));
    }

    @Test
    void everySiteComesBackWithItsFourValuesAndItsFramesInnermostFirst(@TempDir Path dir) throws IOException {
        HeapProfile profile = threeSites();
        Path file = dir.resolve("heap.pb.gz");
        long before = System.currentTimeMillis() * 1_000_000L;
        profile.writePprof(file);
        long after = System.currentTimeMillis() * 1_000_000L;

        byte[] raw = Files.readAllBytes(file);
        assertEquals(0x1f, raw[0] & 0xff, "gzip magic");
        assertEquals(0x8b, raw[1] & 0xff, "gzip magic");
        ParsedProfile parsed = ParsedProfile.read(file);

        assertEquals("", parsed.strings.getFirst(), "string_table[0] is the empty string");
        assertEquals(List.of("alloc_objects/count", "alloc_space/bytes", "inuse_objects/count", "inuse_space/bytes"),
                parsed.sampleTypes, "Go's heap sample types, in Go's order");
        assertEquals("inuse_space", parsed.strings.get((int) parsed.defaultSampleType), "default view");
        assertEquals("space/bytes", parsed.periodType);
        assertEquals(512 * 1024, parsed.period, "the period is the sampling interval");
        assertTrue(parsed.timeNanos >= before && parsed.timeNanos <= after,
                "time_nanos is the time of writing: " + parsed.timeNanos + " not in [" + before + ", " + after + "]");
        assertEquals(1, parsed.comments.size());
        assertTrue(parsed.comments.getFirst().contains("77 samples"), parsed.comments.getFirst());

        assertEquals(profile.sites().size(), parsed.samples.size(), "one sample per site");
        for (int i = 0; i < profile.sites().size(); i++) {
            ProfileSite site = profile.sites().get(i);
            ParsedSample sample = parsed.samples.get(i);
            assertArrayEquals(new long[] {site.allocatedObjects(), site.allocatedBytes(), site.liveObjects(), site.liveBytes()},
                    sample.values, "values of site " + i + " in the order of the sample types");
            List<String> frames = new ArrayList<>();
            for (long locationId : sample.locationIds) {
                frames.add(parsed.frameOf(locationId));
            }
            List<String> expected = site.stack().stream().map(PprofFormatTest::expectedFrame).toList();
            assertEquals(expected, frames, "site " + i + "'s stack, innermost first");
        }
    }

    /** What a frame must read as: {@code function file:line}, the file under its package's directory. */
    private static String expectedFrame(StackTraceElement frame) {
        String pkg = frame.getClassName().substring(0, frame.getClassName().lastIndexOf('.')).replace('.', '/');
        String file = frame.getFileName() == null ? "" : pkg + "/" + frame.getFileName();
        return frame.getClassName() + "." + frame.getMethodName() + " " + file + ":" + Math.max(0, frame.getLineNumber());
    }

    @Test
    void aFrameSharedByStacksIsOneLocationAndOneMethodOnTwoLinesIsOneFunction(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("heap.pb.gz");
        threeSites().writePprof(file);
        ParsedProfile parsed = ParsedProfile.read(file);

        // Distinct frames: allocate:42, allocate:57, add, main, poll, decode.
        assertEquals(6, parsed.locations.size(), "one location per distinct frame: " + parsed.locations.keySet());
        // Distinct methods: allocate, add, main, poll, decode.
        assertEquals(5, parsed.functions.size(), "one function per distinct class.method and file");
        assertEquals(parsed.samples.get(0).locationIds[1], parsed.samples.get(1).locationIds[1], "add() is one location");
        assertEquals(parsed.samples.get(0).locationIds[2], parsed.samples.get(2).locationIds[2], "main() is one location");
        assertNotEquals(parsed.samples.get(0).locationIds[0], parsed.samples.get(1).locationIds[0], "two lines, two locations");
        assertEquals(parsed.locations.get(parsed.samples.get(0).locationIds[0]).functionId,
                parsed.locations.get(parsed.samples.get(1).locationIds[0]).functionId, "two lines of one method, one function");
        for (long id : parsed.locations.keySet()) {
            assertTrue(id != 0, "location ids are nonzero");
        }
        for (long id : parsed.functions.keySet()) {
            assertTrue(id != 0, "function ids are nonzero");
        }
        Set<String> names = new HashSet<>();
        for (ParsedFunction function : parsed.functions.values()) {
            assertTrue(names.add(function.name + " " + function.file), "functions are not repeated: " + function.name);
            assertEquals(function.name, function.systemName);
            assertEquals(0, function.startLine, "start line unknown");
        }
        assertEquals(parsed.strings.size(), new HashSet<>(parsed.strings).size(), "the string table has no duplicates");
    }

    @Test
    void anEmptyProfileIsAValidProfileWithNoSamples(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("empty.pb.gz");
        new HeapProfile(0, 0, List.of()).writePprof(file);
        ParsedProfile parsed = ParsedProfile.read(file);
        assertEquals(4, parsed.sampleTypes.size());
        assertEquals(0, parsed.samples.size());
        assertEquals(0, parsed.locations.size());
        assertEquals(0, parsed.period, "profiling off: period 0");
        assertTrue(parsed.comments.getFirst().contains("profiling off"), parsed.comments.getFirst());
    }

    @Test
    void largeAndNegativeLookingValuesSurviveTheVarintEncoding(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("big.pb.gz");
        long big = Long.MAX_VALUE - 3;
        new HeapProfile(1, 1, List.of(new ProfileSite(List.of(MAIN), big, big, Long.MAX_VALUE, -1))).writePprof(file);
        ParsedProfile parsed = ParsedProfile.read(file);
        assertArrayEquals(new long[] {Long.MAX_VALUE, -1, big, big}, parsed.samples.getFirst().values);
    }

    @Test
    void anUnwritablePathIsAnUncheckedIOExceptionNamingIt(@TempDir Path dir) {
        Path file = dir.resolve("no-such-directory").resolve("heap.pb.gz");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> threeSites().writePprof(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> threeSites().writePprof(null));
    }

    /**
     * Go's own reader: {@code go tool pprof -top} (or a standalone {@code pprof}) prints the
     * profile's in-use view with the sites' functions. Skipped when neither is installed (Debian's
     * {@code golang-go} package brings {@code go tool pprof}).
     */
    @Test
    void goPprofReadsTheFile(@TempDir Path dir) throws IOException, InterruptedException {
        List<String> pprof = pprofCommand();
        Assumptions.assumeTrue(pprof != null,
                "skipped: neither 'go' nor 'pprof' is on the PATH (apt-get install golang-go gives 'go tool pprof')");
        Path file = dir.resolve("heap.pb.gz");
        threeSites().writePprof(file);
        List<String> command = new ArrayList<>(pprof);
        command.addAll(List.of("-top", "-nodecount=20", "-sample_index=inuse_space", file.toString()));
        String inuse = run(command, dir);
        assertTrue(inuse.contains("Type: inuse_space"), inuse);
        assertTrue(!inuse.contains("binary") && !inuse.contains("symboliz"), "pprof needs no binary and no symbolization: " + inuse);
        assertTrue(inuse.contains("com.acme.orders.OrderBook.allocate"), inuse);
        assertTrue(inuse.contains("com.acme.Main.main"), inuse);
        // 12288 + 100000 bytes in use under main, in pprof's units (1 kB = 1024 B).
        assertTrue(inuse.contains("109.66kB"), inuse);

        command = new ArrayList<>(pprof);
        command.addAll(List.of("-top", "-sample_index=alloc_objects", file.toString()));
        String allocObjects = run(command, dir);
        assertTrue(allocObjects.contains("Type: alloc_objects"), allocObjects);
        assertTrue(allocObjects.contains("5000") && allocObjects.contains("com.acme.net.Native.poll"), allocObjects);
    }

    private static List<String> pprofCommand() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "pprof"))) {
                return List.of(Path.of(dir, "pprof").toString());
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "go"))) {
                return List.of(Path.of(dir, "go").toString(), "tool", "pprof");
            }
        }
        return null;
    }

    private static String run(List<String> command, Path dir) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
        // A home for Go's cache, which 'go tool' may want even offline.
        builder.environment().putIfAbsent("HOME", dir.toString());
        builder.environment().put("GOCACHE", dir.resolve("gocache").toString());
        builder.environment().put("PPROF_TMPDIR", dir.toString());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "pprof did not finish: " + command);
        assertEquals(0, process.exitValue(), command + " failed:\n" + output);
        return output;
    }

    // ---------------------------------------------------------------- reading the file back

    private record ParsedSample(long[] locationIds, long[] values) {
    }

    private record ParsedLocation(long functionId, long line) {
    }

    private record ParsedFunction(String name, String systemName, String file, long startLine) {
    }

    /** The fields of a pprof Profile this test checks, read with protobuf-java's schema-less parser. */
    private static final class ParsedProfile {
        final List<String> strings = new ArrayList<>();
        final List<String> sampleTypes = new ArrayList<>();
        final List<ParsedSample> samples = new ArrayList<>();
        final Map<Long, ParsedLocation> locations = new HashMap<>();
        final Map<Long, ParsedFunction> functions = new HashMap<>();
        final List<String> comments = new ArrayList<>();
        String periodType;
        long period;
        long timeNanos;
        long defaultSampleType;

        static ParsedProfile read(Path file) throws IOException {
            byte[] message;
            try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
                message = in.readAllBytes();
            }
            UnknownFieldSet profile = UnknownFieldSet.parseFrom(message);
            ParsedProfile parsed = new ParsedProfile();
            for (ByteString s : lengthDelimited(profile, 6)) {
                parsed.strings.add(s.toStringUtf8());
            }
            for (ByteString valueType : lengthDelimited(profile, 1)) {
                parsed.sampleTypes.add(parsed.valueType(valueType));
            }
            for (ByteString sample : lengthDelimited(profile, 2)) {
                UnknownFieldSet fields = UnknownFieldSet.parseFrom(sample);
                parsed.samples.add(new ParsedSample(repeated(fields, 1), repeated(fields, 2)));
            }
            for (ByteString location : lengthDelimited(profile, 4)) {
                UnknownFieldSet fields = UnknownFieldSet.parseFrom(location);
                List<ByteString> lines = lengthDelimited(fields, 4);
                assertEquals(1, lines.size(), "one Line per location (no inlining)");
                assertEquals(1, varint(fields, 2), "every location is in the one mapping");
                UnknownFieldSet line = UnknownFieldSet.parseFrom(lines.getFirst());
                ParsedLocation previous = parsed.locations.put(varint(fields, 1),
                        new ParsedLocation(varint(line, 1), varint(line, 2)));
                assertEquals(null, previous, "location ids are unique");
            }
            for (ByteString function : lengthDelimited(profile, 5)) {
                UnknownFieldSet fields = UnknownFieldSet.parseFrom(function);
                ParsedFunction previous = parsed.functions.put(varint(fields, 1), new ParsedFunction(
                        parsed.string(varint(fields, 2)), parsed.string(varint(fields, 3)),
                        parsed.string(varint(fields, 4)), varint(fields, 5)));
                assertEquals(null, previous, "function ids are unique");
            }
            List<ByteString> mappings = lengthDelimited(profile, 3);
            assertEquals(1, mappings.size(), "one mapping");
            UnknownFieldSet mapping = UnknownFieldSet.parseFrom(mappings.getFirst());
            assertEquals(1, varint(mapping, 1), "the mapping's id");
            assertEquals("[jvm]", parsed.string(varint(mapping, 5)));
            assertEquals(List.of(1L, 1L, 1L), List.of(varint(mapping, 7), varint(mapping, 8), varint(mapping, 9)),
                    "has_functions, has_filenames, has_line_numbers: nothing left to symbolize");
            parsed.timeNanos = varint(profile, 9);
            List<ByteString> periodType = lengthDelimited(profile, 11);
            assertEquals(1, periodType.size());
            parsed.periodType = parsed.valueType(periodType.getFirst());
            parsed.period = varint(profile, 12);
            for (long index : repeated(profile, 13)) {
                parsed.comments.add(parsed.string(index));
            }
            parsed.defaultSampleType = varint(profile, 14);
            return parsed;
        }

        String frameOf(long locationId) {
            ParsedLocation location = locations.get(locationId);
            assertTrue(location != null, "sample names location " + locationId + ", which is not in the profile");
            ParsedFunction function = functions.get(location.functionId);
            assertTrue(function != null, "location names function " + location.functionId + ", which is not in the profile");
            return function.name + " " + function.file + ":" + location.line;
        }

        private String valueType(ByteString message) throws IOException {
            UnknownFieldSet fields = UnknownFieldSet.parseFrom(message);
            return string(varint(fields, 1)) + "/" + string(varint(fields, 2));
        }

        private String string(long index) {
            assertTrue(index >= 0 && index < strings.size(), "string index " + index + " outside the table of " + strings.size());
            return strings.get((int) index);
        }

        private static List<ByteString> lengthDelimited(UnknownFieldSet fields, int number) {
            return fields.hasField(number) ? fields.getField(number).getLengthDelimitedList() : List.of();
        }

        /** A singular varint field; 0 (the default) when absent. */
        private static long varint(UnknownFieldSet fields, int number) {
            if (!fields.hasField(number)) {
                return 0;
            }
            List<Long> values = fields.getField(number).getVarintList();
            assertEquals(1, values.size(), "field " + number + " is written once");
            return values.getFirst();
        }

        /** A repeated integer field, packed (as the writer emits it) or not. */
        private static long[] repeated(UnknownFieldSet fields, int number) throws IOException {
            List<Long> values = new ArrayList<>();
            if (fields.hasField(number)) {
                UnknownFieldSet.Field field = fields.getField(number);
                values.addAll(field.getVarintList());
                for (ByteString packed : field.getLengthDelimitedList()) {
                    CodedInputStream in = packed.newCodedInput();
                    while (!in.isAtEnd()) {
                        values.add(in.readRawVarint64());
                    }
                }
            }
            return values.stream().mapToLong(Long::longValue).toArray();
        }
    }
}
