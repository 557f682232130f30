/**
 * SpanHeap: a Go-style off-heap memory allocator on the Foreign Function &amp; Memory API.
 * Only {@code dev.spanheap} is exported; every structure behind it is package-private.
 */
module dev.spanheap {
    exports dev.spanheap;
    requires java.management;
    // The heap's JFR events (HeapEvents); none is loaded unless the recorder starts.
    requires jdk.jfr;
}
