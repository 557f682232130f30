package dev.spanheap;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * JFR event {@code dev.spanheap.LimitReached}: an allocation needed memory that would have taken
 * the heap past {@code maxHeapBytes}, so the heap released free pages synchronously (and, if
 * that was not enough, refused with {@link OutOfMemoryEvent}). One event per allocation attempt
 * that hit the limit: an attempt that fails is retried once after the caches are flushed, so a
 * refused allocation shows two. Emitted through {@link HeapEvents}.
 */
@Name("dev.spanheap.LimitReached")
@Category("SpanHeap")
@Label("Heap Limit Reached")
@Description("An allocation would have passed maxHeapBytes; free pages were released for it")
final class LimitReachedEvent extends jdk.jfr.Event {

    /** Looked up once, after the recorder is up (see {@link HeapEvents}). */
    private static final EventType TYPE = EventType.getEventType(LimitReachedEvent.class);

    @Label("Heap")
    String heap;

    @Label("Request")
    @Description("Bytes the allocation asked for")
    @DataAmount
    long requestBytes;

    @Label("Limit")
    @Description("maxHeapBytes of the heap")
    @DataAmount
    long limitBytes;

    @Label("Held")
    @Description("Bytes held from the OS when the limit was hit, before releasing")
    @DataAmount
    long heldBytes;

    static void emit(String heap, long requestBytes, long limitBytes, long heldBytes) {
        if (!TYPE.isEnabled()) {
            return;
        }
        LimitReachedEvent event = new LimitReachedEvent();
        event.heap = heap;
        event.requestBytes = requestBytes;
        event.limitBytes = limitBytes;
        event.heldBytes = heldBytes;
        event.commit();
    }
}
