package dev.spanheap;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.EventType;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Percentage;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/**
 * JFR event {@code dev.spanheap.HeapSummary}: a periodic snapshot of one open heap's
 * {@link HeapStats}, one event per open heap per period (Go's {@code runtime/metrics} read on a
 * timer). The period is JFR's setting ({@code 5 s} unless a recording's settings say otherwise);
 * {@link OpenHeaps} runs the hook that emits it.
 */
@Name("dev.spanheap.HeapSummary")
@Category("SpanHeap")
@Label("Heap Summary")
@Description("Periodic statistics of each open SpanHeap")
@Period("5 s")
@StackTrace(false)
final class HeapSummaryEvent extends jdk.jfr.Event {

    /** Looked up once, after the recorder is up (see {@link HeapEvents}). */
    private static final EventType TYPE = EventType.getEventType(HeapSummaryEvent.class);

    @Label("Heap")
    String heap;

    @Label("Held")
    @Description("Memory held from the OS, the figure maxHeapBytes limits")
    @DataAmount
    long heldBytes;

    @Label("Allocated")
    @Description("Bytes behind live objects (slot sizes, whole pages, whole mappings)")
    @DataAmount
    long allocatedBytes;

    @Label("Live Objects")
    long liveObjects;

    @Label("Cached")
    @Description("Free slots held in thread caches")
    @DataAmount
    long cachedBytes;

    @Label("Page caches")
    @Description("Free pages held by threads' page caches for their large objects")
    @DataAmount
    long pageCacheBytes;

    @Label("Reserved")
    @Description("Address space mapped for arenas plus dedicated mappings")
    @DataAmount
    long reservedBytes;

    @Label("Retained Free")
    @Description("Free pages that may still be resident (not yet released)")
    @DataAmount
    long retainedFreeBytes;

    @Label("Released Total")
    @Description("Bytes released to the OS since the heap was created")
    @DataAmount
    long releasedBytesTotal;

    @Label("Limit")
    @Description("maxHeapBytes (Long.MAX_VALUE when none)")
    @DataAmount
    long maxHeapBytes;

    @Label("Arenas")
    int arenas;

    @Label("Small Fragmentation")
    @Description("Share of small spans' slot bytes not behind a live object")
    @Percentage
    double smallFragmentation;

    @Label("Large Fragmentation")
    @Description("Share of large objects' pages that callers did not ask for")
    @Percentage
    double largeFragmentation;

    @Label("External Fragmentation")
    @Description("1 - longest free run / free pages")
    @Percentage
    double externalFragmentation;

    static boolean typeEnabled() {
        return TYPE.isEnabled();
    }

    static void emit(String heap, HeapStats stats) {
        HeapSummaryEvent event = new HeapSummaryEvent();
        event.heap = heap;
        event.heldBytes = stats.heldBytes();
        event.allocatedBytes = stats.allocatedBytes();
        event.liveObjects = stats.liveObjects();
        event.cachedBytes = stats.cachedBytes();
        event.pageCacheBytes = stats.pageCacheBytes();
        event.reservedBytes = stats.reservedBytes();
        event.retainedFreeBytes = stats.retainedFreeBytes();
        event.releasedBytesTotal = stats.releasedBytesTotal();
        event.maxHeapBytes = stats.maxHeapBytes();
        event.arenas = stats.arenas();
        event.smallFragmentation = stats.smallFragmentation();
        event.largeFragmentation = stats.largeFragmentation();
        event.externalFragmentation = stats.externalFragmentation();
        event.commit();
    }
}
