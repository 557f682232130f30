package dev.spanheap;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;

/**
 * JFR event {@code dev.spanheap.ArenaMapped}: a page heap mapped the next 64 MiB arena of its
 * heap's range (Go's {@code sysMap} of a new heap arena). Emitted by {@link AddressRange#mapArena}
 * through {@link HeapEvents}; never loaded unless the JVM's Flight Recorder has started.
 */
@Name("dev.spanheap.ArenaMapped")
@Category("SpanHeap")
@Label("Arena Mapped")
@Description("A SpanHeap arena was mapped read/write inside the heap's address range")
final class ArenaMappedEvent extends jdk.jfr.Event {

    /** Looked up once, after the recorder is up (see {@link HeapEvents}): a volatile read per check. */
    private static final EventType TYPE = EventType.getEventType(ArenaMappedEvent.class);

    @Label("Heap")
    String heap;

    @Label("Arena Index")
    @Description("Index of the arena in the heap's address range, from 0")
    int arenaIndex;

    @Label("Base Address")
    @MemoryAddress
    long baseAddress;

    @Label("Size")
    @DataAmount
    long bytes;

    static void emit(String heap, int arenaIndex, long baseAddress, long bytes) {
        if (!TYPE.isEnabled()) {
            return;
        }
        ArenaMappedEvent event = new ArenaMappedEvent();
        event.heap = heap;
        event.arenaIndex = arenaIndex;
        event.baseAddress = baseAddress;
        event.bytes = bytes;
        event.commit();
    }
}
