package dev.spanheap.testkit;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The calling process's own address-space limit (RLIMIT_AS, through setrlimit by FFM) and size
 * ({@code VmSize} in {@code /proc/self/status}): what a child JVM uses to make the OS refuse mmap
 * from a point of its choosing.
 */
public final class ProcessLimits {

    private static final int RLIMIT_AS = 9;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SETRLIMIT = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("setrlimit"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

    private ProcessLimits() {
    }

    /**
     * Sets the soft address-space limit of this process to {@code bytes} (the hard limit stays).
     * Below {@link #virtualSize()}, every mapping that adds or replaces pages fails from now on,
     * mmap(MAP_FIXED) over a reservation included.
     */
    public static void setAddressSpaceLimit(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment limit = arena.allocate(ValueLayout.JAVA_LONG, 2);
            limit.setAtIndex(ValueLayout.JAVA_LONG, 0, bytes);
            limit.setAtIndex(ValueLayout.JAVA_LONG, 1, -1L); // RLIM_INFINITY: keep the hard limit open
            int rc = (int) SETRLIMIT.invokeExact(RLIMIT_AS, limit);
            if (rc != 0) {
                throw new IllegalStateException("setrlimit(RLIMIT_AS, " + bytes + ") returned " + rc);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** This process's virtual size in bytes ({@code VmSize}). */
    public static long virtualSize() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmSize:")) {
                    String kb = line.substring("VmSize:".length()).trim();
                    return Long.parseLong(kb.substring(0, kb.indexOf(' '))) << 10;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status", e);
        }
        throw new IllegalStateException("no VmSize in /proc/self/status");
    }
}
