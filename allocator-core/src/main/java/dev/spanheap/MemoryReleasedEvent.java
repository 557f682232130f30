package dev.spanheap;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code dev.spanheap.MemoryReleased}: one release pass returned free pages to the OS
 * with MADV_DONTNEED, with the pass's total (one event per pass, not per madvise call). The cause
 * says which pass: {@link HeapEvents#RELEASE_BY_SCAVENGER}, {@link HeapEvents#RELEASE_EXPLICIT}
 * or {@link HeapEvents#RELEASE_FOR_LIMIT}. Emitted through {@link HeapEvents}.
 */
@Name("dev.spanheap.MemoryReleased")
@Category("SpanHeap")
@Label("Memory Released")
@Description("Free SpanHeap pages returned to the OS (MADV_DONTNEED) by one release pass")
final class MemoryReleasedEvent extends jdk.jfr.Event {

    /** Looked up once, after the recorder is up (see {@link HeapEvents}). */
    private static final EventType TYPE = EventType.getEventType(MemoryReleasedEvent.class);

    @Label("Heap")
    String heap;

    @Label("Released")
    @Description("Bytes that stopped being held from the OS in this pass")
    @DataAmount
    long bytes;

    @Label("Cause")
    @Description("scavenger, explicit (releaseFreeMemory) or limit (forced by maxHeapBytes)")
    String cause;

    static void emit(String heap, long bytes, String cause) {
        if (!TYPE.isEnabled()) {
            return;
        }
        MemoryReleasedEvent event = new MemoryReleasedEvent();
        event.heap = heap;
        event.bytes = bytes;
        event.cause = cause;
        event.commit();
    }
}
