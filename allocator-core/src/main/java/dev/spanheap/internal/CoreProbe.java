package dev.spanheap.internal;

import dev.spanheap.SpanHeap;
import java.lang.reflect.Constructor;

/**
 * For the project's own benchmarks; not API. The individual steps of SpanHeap's allocation and
 * free fast paths, each delegating to the core's own code (nothing here is a copy of it), so that
 * a benchmark outside the core's package can time them one by one. Everything may change or
 * disappear with any release; the memory these steps touch is as unprotected as
 * {@link SpanHeap#allocateAddress}'s.
 */
public final class CoreProbe {

    /** The core's implementation, made once through the one constructor it has. */
    private static final CoreAccess CORE = loadCore();

    private CoreProbe() {
    }

    private static CoreAccess loadCore() {
        try {
            Class<?> bridge = Class.forName("dev.spanheap.CoreProbeBridge", true, CoreProbe.class.getClassLoader());
            Constructor<?> constructor = bridge.getDeclaredConstructor();
            // Same module: the core may reach its own package-private class.
            constructor.setAccessible(true);
            return (CoreAccess) constructor.newInstance();
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The size class of a small allocation of {@code byteSize} bytes (0 above 32 KiB). */
    public static int sizeClassOf(long byteSize) {
        return CORE.sizeClassOf(byteSize);
    }

    /** A new, empty thread cache of shard 0 owned by {@code owner}, registered with no heap. */
    public static Object newThreadCache(Thread owner) {
        return CORE.newThreadCache(owner);
    }

    /** The owner check the fast paths make on the cache found for a thread. */
    public static boolean isOwnedBy(Object cache, Thread thread) {
        return CORE.isOwnedBy(cache, thread);
    }

    /** The cache's pop: a slot of the class (tagged in bit 0 when known to be zero), or 0 if its stack is empty. */
    public static long pop(Object cache, int sizeClass) {
        return CORE.pop(cache, sizeClass);
    }

    /** The cache's push: false if the class's stack is full. */
    public static boolean push(Object cache, int sizeClass, long address) {
        return CORE.push(cache, sizeClass, address);
    }

    /**
     * The free fast path's check, as {@code freeAddress} makes it: the class of the slot that
     * {@code address} starts, if the heap's page table says it is a slot of a small span of the
     * cache's shard; 0 otherwise (then the real free would take a slower path).
     */
    public static int ownSlotClass(SpanHeap heap, Object cache, long address) {
        return CORE.ownSlotClass(heap, cache, address);
    }

    /** How the heap clears a block it hands out zeroed: stores for small blocks, memset above. */
    public static void clear(long address, long bytes) {
        CORE.clear(address, bytes);
    }

    /** libc's memset through the heap's critical downcall, the path {@link #clear} takes for larger blocks. */
    public static void memset(long address, long bytes) {
        CORE.memset(address, bytes);
    }
}
