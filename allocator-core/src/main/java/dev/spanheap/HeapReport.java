package dev.spanheap;

import java.nio.file.Path;

/** Placeholder replaced by the observability work (issue 6); not landed as is. */
final class HeapReport {
    private HeapReport() {
    }

    static String render(SpanHeap heap, HeapStats stats) {
        return stats.toString();
    }

    static void writeHeapMap(SpanHeap heap, Path path) {
        throw new UnsupportedOperationException("heap map is not implemented yet");
    }
}
