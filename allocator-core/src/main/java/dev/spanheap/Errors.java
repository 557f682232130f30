package dev.spanheap;

/**
 * Every exception the heap throws is built here, so that each names the problem and the numbers
 * in one consistent form: {@code "free: 0x7f3a00001238 is not the start of a slot (span
 * 0x7f3a00000000, 48-byte slots)"}.
 */
final class Errors {

    private Errors() {
    }

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    static IllegalArgumentException negativeSize(String operation, long byteSize) {
        return new IllegalArgumentException(operation + ": size must not be negative, was " + byteSize);
    }

    static IllegalArgumentException badAlignment(String operation, long byteAlignment) {
        return new IllegalArgumentException(operation + ": alignment must be a positive power of two, was " + byteAlignment);
    }

    static IllegalArgumentException tooLarge(String operation, long byteSize, long byteAlignment) {
        return new IllegalArgumentException(operation + ": " + byteSize + " bytes at alignment " + byteAlignment
                + " cannot be mapped (larger than the address space allows)");
    }

    static IllegalArgumentException notFromHeap(String operation, long address) {
        return new IllegalArgumentException(operation + ": " + hex(address) + " was not allocated by this heap");
    }

    static IllegalArgumentException nullSegment(String operation) {
        return new IllegalArgumentException(operation + ": segment is null");
    }

    static IllegalArgumentException foreignSegment(String operation, java.lang.foreign.MemorySegment segment) {
        return new IllegalArgumentException(operation + ": segment at " + hex(segment.address()) + " (" + segment.byteSize()
                + " bytes) does not belong to this heap");
    }

    static IllegalArgumentException inFreePages(String operation, long address) {
        return new IllegalArgumentException(operation + ": " + hex(address) + " is in free pages of this heap (already freed, or never allocated)");
    }

    static IllegalArgumentException notSlotStart(String operation, long address, Span span) {
        return new IllegalArgumentException(operation + ": " + hex(address) + " is not the start of a slot (span "
                + hex(span.start) + ", " + span.slotSize + "-byte slots)");
    }

    static IllegalArgumentException notObjectStart(String operation, long address, long objectStart, long objectBytes) {
        return new IllegalArgumentException(operation + ": " + hex(address) + " is inside the object at " + hex(objectStart)
                + " (" + objectBytes + " bytes), not its start");
    }

    static IllegalArgumentException doubleFree(String operation, long address, Span span) {
        return new IllegalArgumentException(operation + ": " + hex(address) + " is already free (double free; span "
                + hex(span.start) + ", " + span.slotSize + "-byte slots)");
    }

    static IllegalStateException writeAfterFree(long address, int slotSize, long offset, long found) {
        return new IllegalStateException("checked mode: the free " + slotSize + "-byte slot at " + hex(address)
                + " was written after it was freed (offset " + offset + " holds " + hex(found)
                + " instead of the poison); the slot is quarantined");
    }

    static IllegalStateException closed(String operation) {
        return new IllegalStateException(operation + ": the heap is closed");
    }

    static OutOfMemoryError overLimit(String operation, long requestBytes, long limitBytes, long heldBytes) {
        return new OutOfMemoryError(operation + " of " + requestBytes + " bytes would exceed maxHeapBytes " + limitBytes
                + " (held from the OS: " + heldBytes + " bytes, after releasing free pages)");
    }

    static OutOfMemoryError osRefused(String operation, long requestBytes, long limitBytes, long heldBytes, OutOfMemoryError cause) {
        OutOfMemoryError error = new OutOfMemoryError(operation + " of " + requestBytes + " bytes: the OS refused memory ("
                + cause.getMessage() + "); maxHeapBytes " + (limitBytes == Long.MAX_VALUE ? "none" : String.valueOf(limitBytes))
                + ", held from the OS: " + heldBytes + " bytes");
        error.initCause(cause);
        return error;
    }

    /**
     * Every arena of the range in use: names the request, the range (and, when the OS cut it
     * short, what was asked for), the limit and the memory held.
     */
    static OutOfMemoryError addressRangeFull(String operation, long requestBytes, AddressRange range) {
        String why = range.addressSpaceBytes < range.requestedAddressSpaceBytes
                ? " (cut short from " + range.requestedAddressSpaceBytes + " bytes asked for, because the OS refused more:"
                        + " an address-space limit such as ulimit -v)"
                : " (raise addressSpaceBytes)";
        return new OutOfMemoryError(operation + " of " + requestBytes + " bytes: all " + range.maxArenas + " arenas of the "
                + range.addressSpaceBytes + "-byte address range are in use" + why + "; maxHeapBytes "
                + (range.maxHeapBytes == Long.MAX_VALUE ? "none" : String.valueOf(range.maxHeapBytes))
                + ", held from the OS: " + range.heldBytes() + " bytes");
    }
}
