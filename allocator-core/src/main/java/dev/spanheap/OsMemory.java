package dev.spanheap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The operating system's virtual memory calls (mmap, munmap, madvise, mincore) as FFM downcalls; Go's
 * {@code mem_linux.go}. Every call captures errno, and a failure becomes an exception whose
 * message names the call, its arguments and {@code strerror(errno)}.
 *
 * <p>mmap, munmap and madvise are not marked critical: each may block in the kernel (page-table
 * work, a large madvise), and a critical downcall would hold up safepoints meanwhile. memset is:
 * it is short (at most one object's bytes) and never blocks.
 */
final class OsMemory {

    static final long OS_PAGE_SIZE = 4096;

    private static final int PROT_NONE = 0;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_FIXED = 0x10;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MADV_DONTNEED = 4;
    private static final int MADV_HUGEPAGE = 14;
    private static final long MAP_FAILED = -1L;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle MMAP = downcall("mmap", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle MADVISE = downcall("madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final MethodHandle MINCORE = downcall("mincore", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    /** libc memset as a critical downcall: no thread-state transition, for clears of at most a large object. */
    private static final MethodHandle MEMSET = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("memset"),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
            Linker.Option.critical(false));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("strerror"),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private OsMemory() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), descriptor,
                Linker.Option.captureCallState("errno"));
    }

    /**
     * Reserves {@code bytes} of address space aligned to {@code alignment} (a power of two, at
     * least the OS page), inaccessible until {@link #commit}: maps {@code bytes + alignment} with
     * PROT_NONE and trims the unaligned head and the tail.
     *
     * @throws OutOfMemoryError naming the request and errno when the kernel refuses
     */
    static long reserveAligned(long bytes, long alignment) {
        long span = bytes + alignment;
        long raw = mmap(0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, "reserve address space");
        long aligned = (raw + alignment - 1) & -alignment;
        if (aligned > raw) {
            unmap(raw, aligned - raw);
        }
        long tail = raw + span - (aligned + bytes);
        if (tail > 0) {
            unmap(aligned + bytes, tail);
        }
        return aligned;
    }

    /** Maps {@code [address, address + bytes)} of a reservation read/write, zero-filled, over what was there. */
    static void commit(long address, long bytes) {
        long got = mmap(address, bytes, PROT_READ_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
                "map arena");
        if (got != address) {
            throw new IllegalStateException("mmap(MAP_FIXED) returned " + Errors.hex(got) + " for " + Errors.hex(address));
        }
    }

    /** Maps {@code bytes} of fresh zero-filled read/write memory anywhere, aligned to {@code alignment}. */
    static long mapAligned(long bytes, long alignment) {
        if (alignment <= OS_PAGE_SIZE) {
            return mmap(0, bytes, PROT_READ_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, "map large object");
        }
        long base = reserveAligned(bytes, alignment);
        commit(base, bytes);
        return base;
    }

    /** Unmaps a range; a failure here means allocator metadata is wrong, so it is an error, not an OOM. */
    static void unmap(long address, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int rc = (int) MUNMAP.invokeExact(state, address, bytes);
            if (rc != 0) {
                throw new IllegalStateException("munmap(" + Errors.hex(address) + ", " + bytes + ") failed: "
                        + describe(errno(state)));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Gives the physical pages behind a range back to the kernel (MADV_DONTNEED); the range stays
     * mapped and reads as zero afterwards.
     */
    static void release(long address, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int rc = (int) MADVISE.invokeExact(state, address, bytes, MADV_DONTNEED);
            if (rc != 0) {
                throw new IllegalStateException("madvise(" + Errors.hex(address) + ", " + bytes
                        + ", MADV_DONTNEED) failed: " + describe(errno(state)));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Clears {@code bytes} at {@code address} with libc's memset (vectorized); {@link Zero} decides
     * when. The caller owns the block; the heap is open.
     */
    static void zero(long address, long bytes) {
        try {
            long ignored = (long) MEMSET.invokeExact(address, 0, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long mmap(long address, long bytes, int protection, int flags, String purpose) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            long got = (long) MMAP.invokeExact(state, address, bytes, protection, flags, -1, 0L);
            if (got == MAP_FAILED) {
                int errno = errno(state);
                throw new OutOfMemoryError("mmap of " + bytes + " bytes (" + purpose + ") failed: " + describe(errno));
            }
            return got;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** "ENOMEM-style text (errno 12)" from the C library. */
    static String describe(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0) + " (errno " + errno + ")";
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /**
     * Asks the kernel to back {@code [address, address + bytes)} with transparent huge pages
     * (madvise MADV_HUGEPAGE, which THP's {@code madvise} mode waits for). Only advice: returns
     * false, and changes nothing, where the kernel refuses it (built without THP).
     */
    static boolean adviseHugePages(long address, long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            return (int) MADVISE.invokeExact(state, address, bytes, MADV_HUGEPAGE) == 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The bytes of {@code [address, address + bytes)} ({@code address} OS-page aligned) resident in
     * memory, from mincore: the kernel writes one byte per OS page of the range into {@code vector},
     * bit 0 set when resident. -1 if the kernel refuses (ENOMEM: part of the range is not mapped,
     * as when a mapping is unmapped meanwhile).
     *
     * @throws IllegalArgumentException if {@code vector} is shorter than the range's pages (the
     *                                  kernel would write past it)
     */
    static long residentBytes(long address, long bytes, MemorySegment vector) {
        long pages = (bytes + OS_PAGE_SIZE - 1) / OS_PAGE_SIZE;
        if (vector.byteSize() < pages) {
            throw new IllegalArgumentException("mincore of " + bytes + " bytes needs a vector of " + pages
                    + " bytes, got " + vector.byteSize());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            if ((int) MINCORE.invokeExact(state, address, bytes, vector.address()) != 0) {
                return -1;
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        long resident = 0;
        long i = 0;
        for (; i + 8 <= pages; i += 8) {
            resident += Long.bitCount(vector.get(ValueLayout.JAVA_LONG_UNALIGNED, i) & 0x0101010101010101L);
        }
        for (; i < pages; i++) {
            resident += vector.get(ValueLayout.JAVA_BYTE, i) & 1;
        }
        return resident * OS_PAGE_SIZE;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
