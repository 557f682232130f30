package dev.spanheap;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a {@link HeapProfile} in pprof's format (a gzipped {@code perftools.profiles.Profile},
 * {@code profile.proto} of github.com/google/pprof), laid out as Go's heap profiles are, so that
 * {@code go tool pprof} and {@code pprof} show it with their usual heap views.
 *
 * <p>What goes in:
 * <ul>
 * <li>four sample types, in Go's order: {@code alloc_objects/count}, {@code alloc_space/bytes},
 *     {@code inuse_objects/count}, {@code inuse_space/bytes}; {@code inuse_space} is the default
 *     (and, being last, also what older readers pick);</li>
 * <li>one sample per {@link ProfileSite}: its stack as location ids, innermost first, and its four
 *     estimates in the order of the sample types;</li>
 * <li>one location per distinct (function, line) and one function per distinct (class, method,
 *     file): a frame seen in many stacks is written once. A function's name is
 *     {@code class.method}; its file is the source file under its package's directory
 *     ({@code com/acme/Foo.java}, as a source tree lays it out); its start line is unknown (0);</li>
 * <li>one mapping, {@code [jvm]}, that every location belongs to: Java frames have no binary or
 *     address, so it only says that functions, files and lines are all there (pprof then neither
 *     tries to symbolize the locations nor warns that the main binary is unknown);</li>
 * <li>period type {@code space/bytes} with the period {@link HeapProfile#sampleBytes()}, the time
 *     of writing, and a comment with the number of samples taken.</li>
 * </ul>
 */
final class PprofWriter {

    // Field numbers of profile.proto.
    private static final int PROFILE_SAMPLE_TYPE = 1;
    private static final int PROFILE_SAMPLE = 2;
    private static final int PROFILE_MAPPING = 3;
    private static final int PROFILE_LOCATION = 4;
    private static final int PROFILE_FUNCTION = 5;
    private static final int PROFILE_STRING_TABLE = 6;
    private static final int PROFILE_TIME_NANOS = 9;
    private static final int PROFILE_PERIOD_TYPE = 11;
    private static final int PROFILE_PERIOD = 12;
    private static final int PROFILE_COMMENT = 13;
    private static final int PROFILE_DEFAULT_SAMPLE_TYPE = 14;
    private static final int VALUE_TYPE_TYPE = 1;
    private static final int VALUE_TYPE_UNIT = 2;
    private static final int SAMPLE_LOCATION_ID = 1;
    private static final int SAMPLE_VALUE = 2;
    private static final int MAPPING_ID = 1;
    private static final int MAPPING_FILENAME = 5;
    private static final int MAPPING_HAS_FUNCTIONS = 7;
    private static final int MAPPING_HAS_FILENAMES = 8;
    private static final int MAPPING_HAS_LINE_NUMBERS = 9;
    private static final int LOCATION_ID = 1;
    private static final int LOCATION_MAPPING_ID = 2;
    private static final int LOCATION_LINE = 4;
    private static final int LINE_FUNCTION_ID = 1;
    private static final int LINE_LINE = 2;
    private static final int FUNCTION_ID = 1;
    private static final int FUNCTION_NAME = 2;
    private static final int FUNCTION_SYSTEM_NAME = 3;
    private static final int FUNCTION_FILENAME = 4;

    /** The one mapping, which every location belongs to. */
    private static final long JVM_MAPPING_ID = 1;

    /** The string table: index 0 is "" as the format requires. */
    private final Map<String, Long> stringIndex = new HashMap<>();
    private final ProtoEncoder strings = new ProtoEncoder();
    /** Function ids by "class.method" + '\0' + file. */
    private final Map<String, Long> functionIds = new HashMap<>();
    private final ProtoEncoder functions = new ProtoEncoder();
    /** Location ids by function id and line. */
    private final Map<FunctionLine, Long> locationIds = new HashMap<>();
    private final ProtoEncoder locations = new ProtoEncoder();

    private record FunctionLine(long functionId, long line) {
    }

    private PprofWriter() {
        string("");
    }

    /**
     * Writes {@code profile} gzipped to {@code path} (replacing the file if it exists).
     *
     * @throws UncheckedIOException naming the path when the file cannot be written
     */
    static void write(HeapProfile profile, Path path) {
        byte[] encoded = encode(profile, System.currentTimeMillis() * 1_000_000L);
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(path));
                GZIPOutputStream gzip = new GZIPOutputStream(file)) {
            gzip.write(encoded);
        } catch (IOException e) {
            throw new UncheckedIOException("writePprof: cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    /** The uncompressed {@code Profile} message of {@code profile}, stamped with {@code timeNanos} (since the epoch). */
    static byte[] encode(HeapProfile profile, long timeNanos) {
        return new PprofWriter().profileMessage(profile, timeNanos);
    }

    private byte[] profileMessage(HeapProfile profile, long timeNanos) {
        ProtoEncoder out = new ProtoEncoder();
        out.message(PROFILE_SAMPLE_TYPE, valueType("alloc_objects", "count"));
        out.message(PROFILE_SAMPLE_TYPE, valueType("alloc_space", "bytes"));
        out.message(PROFILE_SAMPLE_TYPE, valueType("inuse_objects", "count"));
        out.message(PROFILE_SAMPLE_TYPE, valueType("inuse_space", "bytes"));
        for (ProfileSite site : profile.sites()) {
            out.message(PROFILE_SAMPLE, sample(site));
        }
        out.message(PROFILE_MAPPING, new ProtoEncoder()
                .int64(MAPPING_ID, JVM_MAPPING_ID)
                .int64(MAPPING_FILENAME, string("[jvm]"))
                .bool(MAPPING_HAS_FUNCTIONS, true)
                .bool(MAPPING_HAS_FILENAMES, true)
                .bool(MAPPING_HAS_LINE_NUMBERS, true));
        ProtoEncoder tail = new ProtoEncoder();
        tail.int64(PROFILE_TIME_NANOS, timeNanos);
        tail.message(PROFILE_PERIOD_TYPE, valueType("space", "bytes"));
        tail.int64(PROFILE_PERIOD, profile.sampleBytes());
        tail.packed(PROFILE_COMMENT, new long[] {string("SpanHeap heap profile: " + profile.samplesTaken() + " samples taken, "
                + (profile.sampleBytes() == 0 ? "profiling off" : "one per " + profile.sampleBytes() + " bytes on average"))});
        tail.int64(PROFILE_DEFAULT_SAMPLE_TYPE, string("inuse_space"));

        // Fields may come in any order; the tables go after the samples that filled them.
        return out.fields(locations).fields(functions).fields(strings).fields(tail).toByteArray();
    }

    private ProtoEncoder valueType(String type, String unit) {
        return new ProtoEncoder().int64(VALUE_TYPE_TYPE, string(type)).int64(VALUE_TYPE_UNIT, string(unit));
    }

    private ProtoEncoder sample(ProfileSite site) {
        List<StackTraceElement> stack = site.stack();
        long[] locationIdsOfStack = new long[stack.size()];
        for (int i = 0; i < locationIdsOfStack.length; i++) {
            locationIdsOfStack[i] = location(stack.get(i));
        }
        return new ProtoEncoder()
                .packed(SAMPLE_LOCATION_ID, locationIdsOfStack)
                .packed(SAMPLE_VALUE, new long[] {site.allocatedObjects(), site.allocatedBytes(), site.liveObjects(),
                        site.liveBytes()});
    }

    /** The id of {@code frame}'s location, written on first sight. */
    private long location(StackTraceElement frame) {
        long functionId = function(frame);
        long line = Math.max(0, frame.getLineNumber()); // negative: unknown (-1) or native (-2)
        FunctionLine key = new FunctionLine(functionId, line);
        Long known = locationIds.get(key);
        if (known != null) {
            return known;
        }
        long id = locationIds.size() + 1L; // ids are nonzero
        locationIds.put(key, id);
        ProtoEncoder lineMessage = new ProtoEncoder().int64(LINE_FUNCTION_ID, functionId).int64(LINE_LINE, line);
        locations.message(PROFILE_LOCATION, new ProtoEncoder().int64(LOCATION_ID, id)
                .int64(LOCATION_MAPPING_ID, JVM_MAPPING_ID).message(LOCATION_LINE, lineMessage));
        return id;
    }

    /** The id of {@code frame}'s function, written on first sight. */
    private long function(StackTraceElement frame) {
        String name = frame.getClassName() + "." + frame.getMethodName();
        String file = sourcePath(frame);
        String key = name + '\0' + file;
        Long known = functionIds.get(key);
        if (known != null) {
            return known;
        }
        long id = functionIds.size() + 1L;
        functionIds.put(key, id);
        long nameIndex = string(name);
        functions.message(PROFILE_FUNCTION, new ProtoEncoder()
                .int64(FUNCTION_ID, id)
                .int64(FUNCTION_NAME, nameIndex)
                .int64(FUNCTION_SYSTEM_NAME, nameIndex)
                .int64(FUNCTION_FILENAME, string(file)));
        return id;
    }

    /** {@code com/acme/Foo.java} for a frame of {@code com.acme.Foo$Inner} in {@code Foo.java}; "" when the file is unknown. */
    static String sourcePath(StackTraceElement frame) {
        String file = frame.getFileName();
        if (file == null) {
            return "";
        }
        String className = frame.getClassName();
        int lastDot = className.lastIndexOf('.');
        return lastDot < 0 ? file : className.substring(0, lastDot).replace('.', '/') + "/" + file;
    }

    /** The string table index of {@code value}, added on first use. */
    private long string(String value) {
        Long known = stringIndex.get(value);
        if (known != null) {
            return known;
        }
        long index = stringIndex.size();
        stringIndex.put(value, index);
        strings.string(PROFILE_STRING_TABLE, value);
        return index;
    }
}
