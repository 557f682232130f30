package dev.spanheap.bench;

import dev.spanheap.SpanHeap;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * An allocator seen through its raw address interface ({@code malloc}/{@code free} shape), so
 * that every workload runs the same code over SpanHeap and each native baseline.
 *
 * <p>Each implementation keeps its downcall handles in {@code static final} fields of its own
 * class, so the JIT treats them as constants, and a JMH fork loads exactly one implementation, so
 * the interface calls in a workload are monomorphic and inlined.
 */
public interface RawAllocator extends AutoCloseable {

    /** Every allocator name a workload accepts, in table order. */
    List<String> NAMES = List.of("spanheap", "malloc", "malloc-critical", "mimalloc", "tcmalloc", "jemalloc");

    String name();

    /** Allocates {@code size} uninitialized bytes, at least 8-byte aligned. */
    long allocate(long size);

    void free(long address);

    /**
     * Bytes the allocator holds from the OS (mapped and not given back), or -1 when it cannot say.
     * For glibc and a preloaded jemalloc this includes the JVM's own mallocs.
     */
    long heldBytes();

    /**
     * Bytes of the allocator's own mappings resident in memory, as the OS counts them, or -1 when
     * it cannot say (the natives share their mappings with the JVM's own mallocs).
     */
    default long residentBytes() {
        return -1;
    }

    @Override
    default void close() {
    }

    /** Why {@code name} cannot run in this process, or null when it can. */
    static String skipReason(String name) {
        return switch (name) {
            case "spanheap", "malloc", "malloc-critical" -> null;
            case "mimalloc" -> NativeAllocators.MIMALLOC.available() ? null : NativeAllocators.MIMALLOC.skipReason();
            case "tcmalloc" -> NativeAllocators.TCMALLOC.available() ? null : NativeAllocators.TCMALLOC.skipReason();
            case "jemalloc" -> NativeAllocators.JEMALLOC.available() ? null : NativeAllocators.JEMALLOC.skipReason();
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "', expected one of " + NAMES);
        };
    }

    /** Creates the allocator called {@code name}; throws naming the reason if it is not available. */
    static RawAllocator create(String name) {
        String skip = skipReason(name);
        if (skip != null) {
            throw new IllegalStateException(name + " is " + skip);
        }
        return switch (name) {
            case "spanheap" -> new SpanHeapRaw();
            case "malloc" -> new GlibcPlain();
            case "malloc-critical" -> new GlibcCritical();
            case "mimalloc" -> new Mimalloc();
            case "tcmalloc" -> new Tcmalloc();
            case "jemalloc" -> new Jemalloc();
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "'");
        };
    }

    /** SpanHeap's raw path: {@link SpanHeap#allocateAddress} and {@link SpanHeap#freeAddress}. */
    final class SpanHeapRaw implements RawAllocator {
        private final SpanHeap heap = SpanHeap.create();

        @Override public String name() { return "spanheap"; }
        @Override public long allocate(long size) { return heap.allocateAddress(size); }
        @Override public void free(long address) { heap.freeAddress(address); }
        @Override public long heldBytes() { return heap.stats().heldBytes(); }
        @Override public long residentBytes() { return heap.residentBytes(); }
        @Override public void close() { heap.close(); }

        public SpanHeap heap() { return heap; }
    }

    /** glibc malloc/free through ordinary downcalls (with the thread-state transition). */
    final class GlibcPlain implements RawAllocator {
        private static final MethodHandle MALLOC = NativeAllocators.downcall(NativeAllocators.GLIBC, "malloc", NativeAllocators.MALLOC, false);
        private static final MethodHandle FREE = NativeAllocators.downcall(NativeAllocators.GLIBC, "free", NativeAllocators.FREE, false);
        private static final MethodHandle CALLOC = NativeAllocators.downcall(NativeAllocators.GLIBC, "calloc", NativeAllocators.CALLOC, false);

        @Override public String name() { return "malloc"; }

        /** {@code calloc(1, size)}: zero-filled memory, the baseline for {@link SpanHeap#allocate}. */
        public long allocateZeroed(long size) {
            try {
                return (long) CALLOC.invokeExact(1L, size);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public long allocate(long size) {
            try {
                return (long) MALLOC.invokeExact(size);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void free(long address) {
            try {
                FREE.invokeExact(address);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override public long heldBytes() { return Glibc.heldBytes(); }
    }

    /** glibc malloc/free through critical downcalls (no thread-state transition). */
    final class GlibcCritical implements RawAllocator {
        private static final MethodHandle MALLOC = NativeAllocators.downcall(NativeAllocators.GLIBC, "malloc", NativeAllocators.MALLOC, true);
        private static final MethodHandle FREE = NativeAllocators.downcall(NativeAllocators.GLIBC, "free", NativeAllocators.FREE, true);

        @Override public String name() { return "malloc-critical"; }

        @Override
        public long allocate(long size) {
            try {
                return (long) MALLOC.invokeExact(size);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void free(long address) {
            try {
                FREE.invokeExact(address);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override public long heldBytes() { return Glibc.heldBytes(); }
    }

    /** mimalloc's mi_malloc/mi_free through critical downcalls. */
    final class Mimalloc implements RawAllocator {
        private static final MethodHandle MALLOC = NativeAllocators.downcall(NativeAllocators.MIMALLOC, "mi_malloc", NativeAllocators.MALLOC, true);
        private static final MethodHandle FREE = NativeAllocators.downcall(NativeAllocators.MIMALLOC, "mi_free", NativeAllocators.FREE, true);
        private static final MethodHandle PROCESS_INFO = NativeAllocators.downcall(NativeAllocators.MIMALLOC, "mi_process_info",
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS), false);

        @Override public String name() { return "mimalloc"; }

        @Override
        public long allocate(long size) {
            try {
                return (long) MALLOC.invokeExact(size);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void free(long address) {
            try {
                FREE.invokeExact(address);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        /** mimalloc's current commit, from {@code mi_process_info}. */
        @Override
        public long heldBytes() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG, 8);
                PROCESS_INFO.invokeExact(out, out.asSlice(8), out.asSlice(16), out.asSlice(24),
                        out.asSlice(32), out.asSlice(40), out.asSlice(48), out.asSlice(56));
                return out.getAtIndex(ValueLayout.JAVA_LONG, 5);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }
    }

    /** tcmalloc's tc_malloc/tc_free (gperftools, minimal build) through critical downcalls. */
    final class Tcmalloc implements RawAllocator {
        private static final MethodHandle MALLOC = NativeAllocators.downcall(NativeAllocators.TCMALLOC, "tc_malloc", NativeAllocators.MALLOC, true);
        private static final MethodHandle FREE = NativeAllocators.downcall(NativeAllocators.TCMALLOC, "tc_free", NativeAllocators.FREE, true);
        private static final MethodHandle PROPERTY = NativeAllocators.downcall(NativeAllocators.TCMALLOC, "MallocExtension_GetNumericProperty",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS), false);

        @Override public String name() { return "tcmalloc"; }

        @Override
        public long allocate(long size) {
            try {
                return (long) MALLOC.invokeExact(size);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void free(long address) {
            try {
                FREE.invokeExact(address);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        /** {@code generic.heap_size} minus {@code tcmalloc.pageheap_unmapped_bytes}. */
        @Override
        public long heldBytes() {
            long heap = property("generic.heap_size");
            long unmapped = property("tcmalloc.pageheap_unmapped_bytes");
            return heap < 0 || unmapped < 0 ? -1 : heap - unmapped;
        }

        private static long property(String name) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
                int found = (int) PROPERTY.invokeExact(arena.allocateFrom(name), value);
                return found == 0 ? -1 : value.get(ValueLayout.JAVA_LONG, 0);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }
    }

    /** jemalloc's malloc/free (preloaded, found with dlsym) through critical downcalls. */
    final class Jemalloc implements RawAllocator {
        private static final MethodHandle MALLOC = NativeAllocators.downcall(NativeAllocators.JEMALLOC, "malloc", NativeAllocators.MALLOC, true);
        private static final MethodHandle FREE = NativeAllocators.downcall(NativeAllocators.JEMALLOC, "free", NativeAllocators.FREE, true);
        private static final MethodHandle MALLCTL = NativeAllocators.downcall(NativeAllocators.JEMALLOC, "mallctl",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG), false);

        @Override public String name() { return "jemalloc"; }

        @Override
        public long allocate(long size) {
            try {
                return (long) MALLOC.invokeExact(size);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public void free(long address) {
            try {
                FREE.invokeExact(address);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }

        /** {@code stats.mapped} after refreshing the statistics epoch; includes the JVM's own mallocs. */
        @Override
        public long heldBytes() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment epoch = arena.allocate(ValueLayout.JAVA_LONG);
                epoch.set(ValueLayout.JAVA_LONG, 0, 1);
                int rc = (int) MALLCTL.invokeExact(arena.allocateFrom("epoch"), MemorySegment.NULL, MemorySegment.NULL, epoch, 8L);
                MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
                MemorySegment length = arena.allocate(ValueLayout.JAVA_LONG);
                length.set(ValueLayout.JAVA_LONG, 0, 8);
                rc |= (int) MALLCTL.invokeExact(arena.allocateFrom("stats.mapped"), value, length, MemorySegment.NULL, 0L);
                return rc == 0 ? value.get(ValueLayout.JAVA_LONG, 0) : -1;
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }
    }

    /** glibc's own accounting, from {@code mallinfo2()} (all arenas; includes the JVM's mallocs). */
    final class Glibc {
        private static final StructLayout MALLINFO2 = MemoryLayout.structLayout(
                ValueLayout.JAVA_LONG.withName("arena"), ValueLayout.JAVA_LONG.withName("ordblks"),
                ValueLayout.JAVA_LONG.withName("smblks"), ValueLayout.JAVA_LONG.withName("hblks"),
                ValueLayout.JAVA_LONG.withName("hblkhd"), ValueLayout.JAVA_LONG.withName("usmblks"),
                ValueLayout.JAVA_LONG.withName("fsmblks"), ValueLayout.JAVA_LONG.withName("uordblks"),
                ValueLayout.JAVA_LONG.withName("fordblks"), ValueLayout.JAVA_LONG.withName("keepcost"));
        private static final MethodHandle MALLINFO = NativeAllocators.downcall(NativeAllocators.GLIBC, "mallinfo2",
                FunctionDescriptor.of(MALLINFO2), false);

        private Glibc() {
        }

        /** {@code arena + hblkhd}: bytes in the malloc heaps plus bytes in mmapped chunks. */
        static long heldBytes() {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment info = (MemorySegment) MALLINFO.invokeExact((java.lang.foreign.SegmentAllocator) arena);
                return info.getAtIndex(ValueLayout.JAVA_LONG, 0) + info.getAtIndex(ValueLayout.JAVA_LONG, 4);
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        }
    }
}
