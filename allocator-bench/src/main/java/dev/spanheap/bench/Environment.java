package dev.spanheap.bench;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a result was measured on: JDK, CPU, kernel, glibc, date. */
@SuppressWarnings("restricted") // a downcall to gnu_get_libc_version
final class Environment {

    private Environment() {
    }

    static Map<String, Object> describe() {
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("jdk", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"));
        env.put("cpu", cpuModel());
        env.put("cpus", Runtime.getRuntime().availableProcessors());
        env.put("kernel", readFirstLine(Path.of("/proc/sys/kernel/osrelease")));
        env.put("glibc", glibcVersion());
        env.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        return env;
    }

    static String cpuModel() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : lines) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return "unknown";
    }

    private static String readFirstLine(Path path) {
        try {
            return Files.readAllLines(path).getFirst().trim();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String glibcVersion() {
        try {
            MethodHandle version = NativeAllocators.LINKER.downcallHandle(
                    NativeAllocators.LINKER.defaultLookup().findOrThrow("gnu_get_libc_version"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            MemorySegment text = (MemorySegment) version.invokeExact();
            return text.reinterpret(64).getString(0);
        } catch (Throwable e) {
            return "unknown";
        }
    }
}
