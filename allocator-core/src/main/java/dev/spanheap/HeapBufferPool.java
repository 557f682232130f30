package dev.spanheap;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * A heap seen as a JDK buffer pool: the {@link BufferPoolMXBean} that jconsole, VisualVM and JDK
 * Mission Control already list next to the {@code direct} and {@code mapped} pools, registered as
 * {@code java.nio:type=BufferPool,name=<heap name>} when {@link SpanHeapConfig#registerMXBean()}
 * is on, and unregistered by {@link SpanHeap#close()}.
 *
 * <p>The three figures, mapped onto the heap's statistics ({@link HeapStats}):
 * <ul>
 * <li>{@code Count}: live objects ({@link HeapStats#liveObjects()});</li>
 * <li>{@code TotalCapacity}: bytes behind live objects ({@link HeapStats#allocatedBytes()});</li>
 * <li>{@code MemoryUsed}: bytes held from the OS ({@link HeapStats#heldBytes()}), the figure that
 *     {@code maxHeapBytes} limits; the gap to {@code TotalCapacity} is what fragmentation and
 *     retained free pages cost.</li>
 * </ul>
 * Each read takes a {@linkplain SpanHeap#stats() statistics snapshot}; monitoring tools poll about
 * once a second, which costs the heap a few lock acquisitions per poll. After the heap is closed
 * the figures read 0 (and {@code MemoryUsed} -1, "not available"), for a reader that raced with
 * the unregistration.
 */
final class HeapBufferPool implements BufferPoolMXBean {

    private final SpanHeap heap;
    private final ObjectName objectName;

    private HeapBufferPool(SpanHeap heap, ObjectName objectName) {
        this.heap = heap;
        this.objectName = objectName;
    }

    /**
     * Registers the MXBean for {@code heap} under its configured name.
     *
     * @throws IllegalArgumentException if the name is not usable in an object name, or another
     *                                  MBean (another heap, say) already has it
     */
    static HeapBufferPool register(SpanHeap heap) {
        String name = heap.config().name();
        ObjectName objectName;
        try {
            objectName = new ObjectName("java.nio:type=BufferPool,name=" + quoteIfNeeded(name));
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("registerMXBean: heap name \"" + name + "\" cannot be used in a JMX object name: "
                    + e.getMessage(), e);
        }
        HeapBufferPool pool = new HeapBufferPool(heap, objectName);
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(pool, objectName);
        } catch (InstanceAlreadyExistsException e) {
            throw new IllegalArgumentException("registerMXBean: an MBean named " + objectName
                    + " is already registered (give each heap its own name with SpanHeapConfig.Builder.name)", e);
        } catch (JMException e) {
            throw new IllegalStateException("registerMXBean: registering " + objectName + " failed: " + e.getMessage(), e);
        }
        return pool;
    }

    /** JMX values may not contain {@code , = : " * ?} unquoted; quote such names. */
    private static String quoteIfNeeded(String name) {
        for (int i = 0; i < name.length(); i++) {
            if (",=:\"*?\n".indexOf(name.charAt(i)) >= 0) {
                return ObjectName.quote(name);
            }
        }
        return name;
    }

    /** Removes the MXBean; a second call does nothing. */
    void unregister() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            server.unregisterMBean(objectName);
        } catch (InstanceNotFoundException alreadyGone) {
            // Nothing to undo.
        } catch (JMException e) {
            throw new IllegalStateException("unregistering " + objectName + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String getName() {
        return heap.config().name();
    }

    @Override
    public long getCount() {
        HeapStats stats = statsOrNull();
        return stats == null ? 0 : stats.liveObjects();
    }

    @Override
    public long getTotalCapacity() {
        HeapStats stats = statsOrNull();
        return stats == null ? 0 : stats.allocatedBytes();
    }

    @Override
    public long getMemoryUsed() {
        HeapStats stats = statsOrNull();
        return stats == null ? -1 : stats.heldBytes();
    }

    @Override
    public ObjectName getObjectName() {
        return objectName;
    }

    private HeapStats statsOrNull() {
        if (heap.isClosed()) {
            return null;
        }
        try {
            return heap.stats();
        } catch (IllegalStateException closedMeanwhile) {
            return null;
        }
    }
}
