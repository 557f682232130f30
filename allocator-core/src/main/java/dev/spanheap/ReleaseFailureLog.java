package dev.spanheap;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Reports, once per heap, that the kernel refused to release free pages (madvise(MADV_DONTNEED)
 * failed). The release is not retried at once and nothing is lost: the pages stay free, dirty and
 * counted as held, the scavenger keeps running, and every refusal is counted in
 * {@link HeapStats#releaseFailures()}. One warning, not one per pass, because a refusal that
 * happens once (pages locked with mlock, say) tends to happen on every pass after it.
 *
 * <p>Shared by the page heaps of one heap; thread-safe.
 */
final class ReleaseFailureLog {

    private final String heapName;
    private final AtomicBoolean reported = new AtomicBoolean();

    ReleaseFailureLog(String heapName) {
        this.heapName = heapName;
    }

    /** Logs {@code refused} at WARNING if it is the heap's first refused release; later ones only count. */
    void report(RuntimeException refused) {
        if (reported.compareAndSet(false, true)) {
            System.getLogger("dev.spanheap").log(System.Logger.Level.WARNING,
                    "SpanHeap " + heapName + ": the OS refused to release free pages; they stay held and are tried again"
                            + " on later passes (further refusals are counted in HeapStats.releaseFailures, not logged)",
                    refused);
        }
    }
}
