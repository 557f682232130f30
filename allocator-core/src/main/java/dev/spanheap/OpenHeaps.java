package dev.spanheap;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The heaps of the process that are open, for the periodic JFR event {@code dev.spanheap.HeapSummary}
 * ({@link HeapSummaryEvent}): the recorder's periodic thread calls {@link #emitSummaries} once per
 * period, which commits one event per open heap from {@link SpanHeap#stats()}.
 *
 * <p>Entries hold their heap weakly, so that the registry never keeps a heap alive (a heap dropped
 * without {@code close()} leaves when it is collected: its entry is purged by the next
 * {@link #add} or summary), and {@link SpanHeap#close()} removes its entry before it unmaps
 * anything. The close must not race with the summary's {@code stats()} call (no call may race
 * with {@code close()}): each entry's monitor is held while its heap is summarised and while it is
 * marked closed, so a close waits for a summary in progress and a summary skips a heap that has
 * begun to close. Lock order: an entry's monitor, then the heap's locks (taken by
 * {@code stats()}); no heap path takes an entry's monitor.
 */
final class OpenHeaps {

    /** Every registered entry; iterated without a lock by the periodic thread. */
    private static final CopyOnWriteArrayList<Entry> ENTRIES = new CopyOnWriteArrayList<>();
    /** Entries whose heap was collected without being closed. */
    private static final ReferenceQueue<SpanHeap> COLLECTED = new ReferenceQueue<>();

    private OpenHeaps() {
    }

    /** One heap's place in the registry: a weak reference to it, with its name. */
    static final class Entry extends WeakReference<SpanHeap> {
        private final String name;
        /** Set by {@link #remove}. Guarded by this entry's monitor. */
        private boolean closed;

        private Entry(SpanHeap heap) {
            super(heap, COLLECTED);
            this.name = heap.config().name();
        }
    }

    static Entry add(SpanHeap heap) {
        purgeCollected();
        Entry entry = new Entry(heap);
        ENTRIES.add(entry);
        return entry;
    }

    /** Marks the entry closed (after a summary of it in progress, if any) and drops it. */
    static void remove(Entry entry) {
        synchronized (entry) {
            entry.closed = true;
        }
        ENTRIES.remove(entry);
    }

    /** Entries registered: open heaps, and dropped ones not yet purged. For the tests. */
    static int size() {
        return ENTRIES.size();
    }

    private static void purgeCollected() {
        for (Object cleared = COLLECTED.poll(); cleared != null; cleared = COLLECTED.poll()) {
            ENTRIES.remove(cleared);
        }
    }

    /** The periodic hook: one {@code HeapSummary} per open heap. Runs on the recorder's thread. */
    static void emitSummaries() {
        purgeCollected();
        if (!HeapSummaryEvent.typeEnabled()) {
            return;
        }
        for (Entry entry : ENTRIES) {
            synchronized (entry) {
                SpanHeap heap = entry.get();
                if (entry.closed || heap == null) {
                    continue;
                }
                HeapSummaryEvent.emit(entry.name, heap.stats());
            }
        }
    }
}
