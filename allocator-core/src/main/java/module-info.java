/**
 * SpanHeap: a Go-style off-heap memory allocator on the Foreign Function &amp; Memory API.
 * {@code dev.spanheap} is the API, and every structure behind it is package-private;
 * {@code dev.spanheap.internal} is exported for the project's own benchmarks only (not API).
 */
module dev.spanheap {
    exports dev.spanheap;
    // For allocator-bench, which runs on the class path (so a qualified export could not name it).
    exports dev.spanheap.internal;
    requires java.management;
    // The heap's JFR events (HeapEvents); none is loaded unless the recorder starts.
    requires jdk.jfr;
}
