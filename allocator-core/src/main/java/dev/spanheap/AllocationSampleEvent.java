package dev.spanheap;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code dev.spanheap.AllocationSample}: one allocation picked by the heap profile's
 * sampling (see {@link SpanHeapConfig.Builder#profileSampleBytes}), with the allocating stack.
 * Emitted from the sampling path through {@link HeapEvents#allocationSampled}, which loads this
 * class only once the JVM's Flight Recorder has started.
 */
@Name("dev.spanheap.AllocationSample")
@Category("SpanHeap")
@Label("Allocation Sample")
@Description("An allocation sampled by the SpanHeap heap profile, with its stack trace")
@StackTrace(true)
final class AllocationSampleEvent extends jdk.jfr.Event {

    /** Looked up once, after the recorder is up (see {@link HeapEvents}). */
    private static final EventType TYPE = EventType.getEventType(AllocationSampleEvent.class);

    @Label("Heap")
    String heap;

    @Label("Requested")
    @Description("Bytes the caller asked for")
    @DataAmount
    long requestedBytes;

    @Label("Slot Size")
    @Description("Bytes the heap set aside: the size class's slot, or whole pages or a mapping for a large object")
    @DataAmount
    long slotBytes;

    @Label("Size Class")
    @Description("Size class of the slot, 0 for an object of whole pages or its own mapping")
    int sizeClass;

    @Label("Address")
    @MemoryAddress
    long address;

    /** Commits a sample if the event is enabled in a running recording; builds nothing otherwise. */
    static void emit(String heap, long size, long slotBytes, int sizeClass, long address) {
        if (!TYPE.isEnabled()) {
            return;
        }
        AllocationSampleEvent event = new AllocationSampleEvent();
        if (!event.shouldCommit()) {
            return;
        }
        event.heap = heap;
        event.requestedBytes = size;
        event.slotBytes = slotBytes;
        event.sizeClass = sizeClass;
        event.address = address;
        event.commit();
    }
}
