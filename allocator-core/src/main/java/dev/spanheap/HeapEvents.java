package dev.spanheap;

import java.lang.invoke.MethodHandles;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

/**
 * Where the heap reports to JDK Flight Recorder: one static method per event, called from slow
 * paths only (mapping an arena, releasing pages, the limit, an {@link OutOfMemoryError}), plus the
 * registration of the periodic {@code dev.spanheap.HeapSummary} (see {@link OpenHeaps}).
 *
 * <p><b>Why a flag in front of every event.</b> Loading the first {@link jdk.jfr.Event} subclass
 * starts JFR's metadata machinery in the JVM, which takes a large part of a second; a process that
 * never records must not pay it on its first allocation. So no event class is touched until the
 * recorder itself starts (a recording, {@code -XX:StartFlightRecording}, {@code jcmd JFR.start}):
 * a listener registered when the first heap opens then loads every event class, looks up their
 * types and adds the periodic hook, all on the recorder's thread and under no heap lock, and only
 * then sets {@link #recorderReady}. Until then each method below is one volatile read.
 *
 * <p><b>Why it is safe under heap locks.</b> Some sites hold a page heap, central-list or grow
 * lock. Once {@link #recorderReady} is set, an emit reads its event type's enabled state and, if
 * enabled, fills and commits an event into the thread's JFR buffer: no class loading, no lock
 * that the periodic hook (which takes heap locks through {@link SpanHeap#stats()}) could hold.
 */
final class HeapEvents {

    /** {@code MemoryReleased} cause: a {@link Scavenger} pass. */
    static final String RELEASE_BY_SCAVENGER = "scavenger";
    /** {@code MemoryReleased} cause: {@link SpanHeap#releaseFreeMemory()}. */
    static final String RELEASE_EXPLICIT = "explicit";
    /** {@code MemoryReleased} cause: the synchronous release an allocation forces at {@code maxHeapBytes}. */
    static final String RELEASE_FOR_LIMIT = "limit";

    /** Set once, by {@link RecorderListener}, after every event class is loaded and registered. */
    private static volatile boolean recorderReady;

    private HeapEvents() {
    }

    /** Whether the events may be touched; see the class comment. */
    static boolean recorderReady() {
        return recorderReady;
    }

    /**
     * Listens for the recorder on the first call (once per process: loading the listener costs a
     * few milliseconds, no JFR metadata) and adds {@code heap} to the heaps that
     * {@code HeapSummary} reports. Returns what {@link #heapClosed} takes.
     */
    static OpenHeaps.Entry heapOpened(SpanHeap heap) {
        RecorderListener.ensureAdded();
        return OpenHeaps.add(heap);
    }

    /** Takes the heap out of the summaries, waiting for a summary of it in progress. Before the heap closes. */
    static void heapClosed(OpenHeaps.Entry entry) {
        OpenHeaps.remove(entry);
    }

    static void arenaMapped(String heap, int arenaIndex, long baseAddress, long bytes) {
        if (recorderReady) {
            ArenaMappedEvent.emit(heap, arenaIndex, baseAddress, bytes);
        }
    }

    /** One release pass's total; {@code cause} is one of the {@code RELEASE_} constants. */
    static void memoryReleased(String heap, long bytes, String cause) {
        if (recorderReady) {
            MemoryReleasedEvent.emit(heap, bytes, cause);
        }
    }

    static void limitReached(String heap, long requestBytes, long limitBytes, long heldBytes) {
        if (recorderReady) {
            LimitReachedEvent.emit(heap, requestBytes, limitBytes, heldBytes);
        }
    }

    static void outOfMemory(String heap, long requestBytes, long limitBytes, long heldBytes, String message) {
        if (recorderReady) {
            OutOfMemoryEvent.emit(heap, requestBytes, limitBytes, heldBytes, message);
        }
    }

    /** For the heap profile's sampling path: an allocation it picked (see {@link AllocationSampleEvent}). */
    static void allocationSampled(String heap, long size, long slotBytes, int sizeClass, long address) {
        if (recorderReady) {
            AllocationSampleEvent.emit(heap, size, slotBytes, sizeClass, address);
        }
    }

    /** Prepares the events when the recorder starts: see the class comment. */
    private static final class RecorderListener implements FlightRecorderListener {

        /** Holder idiom: the listener is added by the first {@link #ensureAdded()}, exactly once. */
        private static final class Added {
            static {
                FlightRecorder.addListener(new RecorderListener());
            }

            static void touch() {
            }
        }

        static void ensureAdded() {
            Added.touch();
        }

        /**
         * Runs once, on the thread that starts the recorder (or at once, in {@link #ensureAdded},
         * when it has started already), holding no heap lock.
         */
        @Override
        public void recorderInitialized(FlightRecorder recorder) {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            try {
                // Each class looks up its EventType in its initializer.
                lookup.ensureInitialized(ArenaMappedEvent.class);
                lookup.ensureInitialized(MemoryReleasedEvent.class);
                lookup.ensureInitialized(LimitReachedEvent.class);
                lookup.ensureInitialized(OutOfMemoryEvent.class);
                lookup.ensureInitialized(AllocationSampleEvent.class);
                lookup.ensureInitialized(HeapSummaryEvent.class);
                FlightRecorder.addPeriodicEvent(HeapSummaryEvent.class, OpenHeaps::emitSummaries);
            } catch (IllegalAccessException | RuntimeException | LinkageError e) {
                // This runs inside the user's recorder start: a failure here must not fail it.
                // The heap then records nothing (the gate stays shut).
                System.getLogger("dev.spanheap").log(System.Logger.Level.WARNING,
                        "SpanHeap's JFR events could not be registered; the heap emits none", e);
                return;
            }
            recorderReady = true;
        }
    }
}
