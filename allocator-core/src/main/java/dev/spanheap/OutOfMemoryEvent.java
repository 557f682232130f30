package dev.spanheap;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code dev.spanheap.OutOfMemory}: the heap threw {@link OutOfMemoryError} to its
 * caller (the limit, the OS refusing memory, or a full address range; see {@link Errors}). An
 * error the heap caught and recovered from (it flushes caches and tries once more) is not
 * reported. Emitted through {@link HeapEvents}.
 */
@Name("dev.spanheap.OutOfMemory")
@Category("SpanHeap")
@Label("Out of Memory")
@Description("SpanHeap threw OutOfMemoryError to the caller of an allocation")
final class OutOfMemoryEvent extends jdk.jfr.Event {

    /** Looked up once, after the recorder is up (see {@link HeapEvents}). */
    private static final EventType TYPE = EventType.getEventType(OutOfMemoryEvent.class);

    @Label("Heap")
    String heap;

    @Label("Request")
    @Description("Bytes the allocation asked for")
    @DataAmount
    long requestBytes;

    @Label("Limit")
    @Description("maxHeapBytes of the heap (Long.MAX_VALUE when none)")
    @DataAmount
    long limitBytes;

    @Label("Held")
    @Description("Bytes held from the OS when the error was thrown")
    @DataAmount
    long heldBytes;

    @Label("Message")
    String message;

    static void emit(String heap, long requestBytes, long limitBytes, long heldBytes, String message) {
        if (!TYPE.isEnabled()) {
            return;
        }
        OutOfMemoryEvent event = new OutOfMemoryEvent();
        event.heap = heap;
        event.requestBytes = requestBytes;
        event.limitBytes = limitBytes;
        event.heldBytes = heldBytes;
        event.message = message;
        event.commit();
    }
}
