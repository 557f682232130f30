package dev.spanheap;

/**
 * The heap's one reservation of address space, and how it was obtained: the configured size, or,
 * for the default configuration when the OS refuses that (an address-space limit such as
 * {@code ulimit -v}), a smaller one found by halving. See {@link AddressRange} for why there is
 * exactly one range, and docs/design.md, "Address-space limits", for the rule.
 *
 * <p>The fallback rule: halve the request until the OS grants it, down to
 * {@link #FLOOR_BYTES}; then give back the upper half of what was granted (if that stays at or
 * above the floor), so that the rest of the process (thread stacks, the JVM's own mappings, other
 * libraries) keeps at least as much address space as the heap took. An explicit
 * {@code addressSpaceBytes} is never shrunk: its refusal is the error.
 *
 * @param base           the 64 MiB-aligned start of the reservation
 * @param bytes          bytes reserved (a multiple of the arena size)
 * @param requestedBytes bytes the configuration asked for
 */
record RangeReservation(long base, long bytes, long requestedBytes) {

    /** The smallest fallback reservation: four arenas. */
    static final long FLOOR_BYTES = 4 * HeapArena.BYTES;

    /** Reserves the range {@code config} asks for, falling back as the class comment says when allowed. */
    static RangeReservation reserve(SpanHeapConfig config) {
        long requested = config.addressSpaceBytes();
        if (!config.addressSpaceMayShrink()) {
            return new RangeReservation(OsMemory.reserveAligned(requested, HeapArena.BYTES), requested, requested);
        }
        OutOfMemoryError firstRefusal = null;
        for (long bytes = requested; bytes >= Math.min(FLOOR_BYTES, requested); bytes /= 2) {
            long base;
            try {
                base = OsMemory.reserveAligned(bytes, HeapArena.BYTES);
            } catch (OutOfMemoryError refused) {
                if (firstRefusal == null) {
                    firstRefusal = refused;
                }
                continue;
            }
            if (bytes == requested) {
                return new RangeReservation(base, bytes, requested);
            }
            long kept = bytes / 2 >= FLOOR_BYTES ? bytes / 2 : bytes;
            if (kept < bytes) {
                OsMemory.unmap(base + kept, bytes - kept);
            }
            return new RangeReservation(base, kept, requested);
        }
        OutOfMemoryError error = new OutOfMemoryError("create: the OS refused every address range from " + requested
                + " bytes down to " + Math.min(FLOOR_BYTES, requested) + " bytes (" + firstRefusal.getMessage()
                + "); an address-space limit (ulimit -v) leaves too little room for a heap");
        error.initCause(firstRefusal);
        throw error;
    }

    /** Whether the OS refused the configured size and a smaller range was taken. */
    boolean cutShort() {
        return bytes < requestedBytes;
    }
}
