package dev.spanheap.internal;

import dev.spanheap.SpanHeap;

/**
 * The steps of the core's fast paths that {@link CoreProbe} exposes, implemented by the core
 * itself (a package-private class of {@code dev.spanheap}, which {@link CoreProbe} instantiates
 * once). Not API: it changes whenever the fast paths do. Handles typed {@code Object} are thread
 * caches made by {@link #newThreadCache}; anything else fails with a {@link ClassCastException}.
 */
public interface CoreAccess {

    int sizeClassOf(long byteSize);

    Object newThreadCache(Thread owner);

    boolean isOwnedBy(Object cache, Thread thread);

    long pop(Object cache, int sizeClass);

    boolean push(Object cache, int sizeClass, long address);

    int ownSlotClass(SpanHeap heap, Object cache, long address);

    void clear(long address, long bytes);

    void memset(long address, long bytes);
}
