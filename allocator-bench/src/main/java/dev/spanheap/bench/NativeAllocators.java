package dev.spanheap.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Finds the native allocators the benchmarks compare against and links their entry points.
 *
 * <p>glibc's {@code malloc} is always there (the FFM default lookup binds to libc's own symbol even
 * when another allocator is preloaded). mimalloc and tcmalloc come from their Debian packages and
 * are opened with {@code dlopen} (local binding, so they do not replace the JVM's own malloc).
 * jemalloc cannot be opened that way (it needs static TLS), so it counts as available only when
 * the process was started with it in {@code LD_PRELOAD}; its {@code malloc} is then found with
 * {@code dlsym(RTLD_DEFAULT, "malloc")}.
 *
 * <p>Pointers cross the boundary as {@code long} (the x86-64 System V ABI passes both in a general
 * register), so a downcall creates no {@link MemorySegment} and no garbage.
 */
@SuppressWarnings("restricted") // linking downcalls is what this class is for
public final class NativeAllocators {

    /** A native allocator: where its library is, or why it cannot be used here. */
    public record Library(String name, Optional<SymbolLookup> lookup, String skipReason) {
        public boolean available() {
            return lookup.isPresent();
        }

        MemorySegment symbol(String symbol) {
            return lookup.orElseThrow(() -> new IllegalStateException(name + " is " + skipReason))
                    .find(symbol)
                    .orElseThrow(() -> new IllegalStateException(name + ": symbol " + symbol + " not found"));
        }
    }

    static final Linker LINKER = Linker.nativeLinker();
    private static final long RTLD_DEFAULT = 0L;

    /** Where the allocators' shared libraries are looked for: the system property, or the usual directories. */
    public static final String LIBRARY_PATH_PROPERTY = "spanheap.bench.libraryPath";
    private static final List<String> LIBRARY_DIRS = List.of(System.getProperty(LIBRARY_PATH_PROPERTY,
            "/usr/lib/x86_64-linux-gnu:/usr/lib64:/usr/lib:/usr/local/lib:/lib/x86_64-linux-gnu").split(":"));

    public static final Library GLIBC = new Library("glibc", Optional.of(LINKER.defaultLookup()), "");
    public static final Library MIMALLOC = openLibrary("mimalloc", "libmimalloc2.0", "libmimalloc.so.2", "mi_malloc");
    public static final Library TCMALLOC = openLibrary("tcmalloc", "libtcmalloc-minimal4", "libtcmalloc_minimal.so.4", "tc_malloc");
    public static final Library JEMALLOC = preloadedJemalloc();

    private NativeAllocators() {
    }

    /** The path of an installed shared library, searched in the usual directories. */
    static Optional<Path> findLibrary(String fileName) {
        for (String dir : LIBRARY_DIRS) {
            Path candidate = Path.of(dir, fileName);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static Library openLibrary(String name, String debianPackage, String fileName, String probeSymbol) {
        Optional<Path> path = findLibrary(fileName);
        if (path.isEmpty()) {
            return new Library(name, Optional.empty(), "skipped (not installed: apt-get install " + debianPackage + ")");
        }
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(path.get(), Arena.global());
            if (lookup.find(probeSymbol).isEmpty()) {
                return new Library(name, Optional.empty(), "skipped (" + path.get() + " has no " + probeSymbol + ")");
            }
            return new Library(name, Optional.of(lookup), "");
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return new Library(name, Optional.empty(), "skipped (cannot open " + path.get() + ": " + e.getMessage() + ")");
        }
    }

    private static Library preloadedJemalloc() {
        MethodHandle dlsym = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("dlsym"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        // mallctl is jemalloc's own entry point: present in the global scope only when it is preloaded.
        long mallctl = dlsym(dlsym, "mallctl");
        if (mallctl == 0) {
            String hint = findLibrary("libjemalloc.so.2")
                    .map(p -> "skipped (installed, but only usable with LD_PRELOAD=" + p + ")")
                    .orElse("skipped (not installed: apt-get install libjemalloc2, then LD_PRELOAD it)");
            return new Library("jemalloc", Optional.empty(), hint);
        }
        SymbolLookup global = symbol -> {
            long address = dlsym(dlsym, symbol);
            return address == 0 ? Optional.empty() : Optional.of(MemorySegment.ofAddress(address));
        };
        return new Library("jemalloc", Optional.of(global), "");
    }

    private static long dlsym(MethodHandle dlsym, String symbol) {
        try (Arena arena = Arena.ofConfined()) {
            return (long) dlsym.invokeExact(RTLD_DEFAULT, arena.allocateFrom(symbol));
        } catch (Throwable e) {
            throw new IllegalStateException("dlsym(" + symbol + ") failed", e);
        }
    }

    /** The path to give {@code LD_PRELOAD} for jemalloc, if it is installed. */
    public static Optional<Path> jemallocLibrary() {
        return findLibrary("libjemalloc.so.2");
    }

    static MethodHandle downcall(Library library, String symbol, FunctionDescriptor descriptor, boolean critical) {
        MemorySegment address = library.symbol(symbol);
        return critical
                ? LINKER.downcallHandle(address, descriptor, Linker.Option.critical(false))
                : LINKER.downcallHandle(address, descriptor);
    }

    static final FunctionDescriptor MALLOC = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    static final FunctionDescriptor CALLOC = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    static final FunctionDescriptor FREE = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG);
}
