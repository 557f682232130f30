package dev.spanheap;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Objects larger than an arena, each in an mmap of its own outside the heap's range; Go's
 * direct large allocations. Rare and expensive by nature (an mmap and a munmap each), so one lock
 * guards them all.
 *
 * <p>Synchronization: every mutable field is guarded by {@link #lock}; the held-bytes limit is
 * the range's ({@link AddressRange#tryHold}).
 */
final class DedicatedMappings {

    /** An object larger than an arena, in its own mapping. */
    record Mapping(long address, long mappedBytes, long requestedBytes, java.lang.foreign.Arena scope) {
    }

    /** What the mappings count, read under the lock. */
    record Snapshot(long objects, long mappedBytes, long allocations, long frees) {
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final AddressRange range;
    /** Mappings by address. Guarded by the lock. */
    private final Map<Long, Mapping> mappings = new HashMap<>();
    private long mappedBytes;
    private long allocations;
    private long frees;

    DedicatedMappings(AddressRange range) {
        this.range = range;
    }

    /** Maps {@code requestedBytes} aligned to {@code alignment}, its segments scoped to {@code scope}; returns the address. */
    long map(long requested, long alignment, java.lang.foreign.Arena scope) {
        // At least one OS page: mmap refuses a length of zero.
        long bytes = Math.max(OsMemory.OS_PAGE_SIZE, (requested + OsMemory.OS_PAGE_SIZE - 1) & -OsMemory.OS_PAGE_SIZE);
        if (!range.tryHold(bytes)) {
            HeapEvents.limitReached(range.heapName, requested, range.maxHeapBytes, range.heldBytes());
            range.releaseEverywhere();
            if (!range.tryHold(bytes)) {
                scope.close();
                throw Errors.overLimit("allocate", requested, range.maxHeapBytes, range.heldBytes());
            }
        }
        long address;
        try {
            address = OsMemory.mapAligned(bytes, alignment);
            if (range.hugePages) {
                OsMemory.adviseHugePages(address, bytes);
            }
        } catch (OutOfMemoryError refused) {
            range.unhold(bytes);
            scope.close();
            throw Errors.osRefused("allocate", requested, range.maxHeapBytes, range.heldBytes(), refused);
        }
        lock.lock();
        try {
            mappings.put(address, new Mapping(address, bytes, requested, scope));
            mappedBytes += bytes;
            allocations++;
        } finally {
            lock.unlock();
        }
        return address;
    }

    Mapping at(long address) {
        lock.lock();
        try {
            return mappings.get(address);
        } finally {
            lock.unlock();
        }
    }

    /** Unmaps the mapping at {@code address}; null if it is not the start of one. */
    Mapping unmap(long address) {
        Mapping mapping;
        lock.lock();
        try {
            mapping = mappings.remove(address);
            if (mapping == null) {
                return null;
            }
            mappedBytes -= mapping.mappedBytes();
            frees++;
        } finally {
            lock.unlock();
        }
        if (mapping.scope() != null) {
            mapping.scope().close();
        }
        OsMemory.unmap(mapping.address(), mapping.mappedBytes());
        range.unhold(mapping.mappedBytes());
        return mapping;
    }

    Snapshot snapshot() {
        lock.lock();
        try {
            return new Snapshot(mappings.size(), mappedBytes, allocations, frees);
        } finally {
            lock.unlock();
        }
    }

    /** Checks that the byte counter agrees with the mappings; null if it does. */
    String verify() {
        lock.lock();
        try {
            long mapped = 0;
            for (Mapping m : mappings.values()) {
                mapped += m.mappedBytes();
            }
            return mapped == mappedBytes ? null
                    : "dedicated mappings add up to " + mapped + " bytes, counter says " + mappedBytes;
        } finally {
            lock.unlock();
        }
    }

    /** Unmaps everything. The caller guarantees nothing uses the heap any more. */
    void unmapAll() {
        lock.lock();
        try {
            for (Mapping m : mappings.values()) {
                if (m.scope() != null) {
                    m.scope().close();
                }
                OsMemory.unmap(m.address(), m.mappedBytes());
                range.unhold(m.mappedBytes());
            }
            mappings.clear();
            mappedBytes = 0;
        } finally {
            lock.unlock();
        }
    }

    /** The mappings' address ranges: {@code [0]} their starts, {@code [1]} their ends. */
    long[][] ranges() {
        lock.lock();
        try {
            long[][] ranges = new long[2][mappings.size()];
            int i = 0;
            for (Mapping m : mappings.values()) {
                ranges[0][i] = m.address();
                ranges[1][i++] = m.address() + m.mappedBytes();
            }
            return ranges;
        } finally {
            lock.unlock();
        }
    }
}
