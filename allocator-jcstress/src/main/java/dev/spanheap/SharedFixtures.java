package dev.spanheap;

/**
 * What the jcstress tests share: heaps made once per test JVM (a heap per test iteration would
 * reserve gigabytes of address space per second), and small address ranges made per iteration and
 * unmapped by the test's arbiter.
 */
final class SharedFixtures {

    private SharedFixtures() {
    }

    /** A heap with no scavenger thread, so that nothing but the actors touches it. */
    static SpanHeap heap(String name) {
        return SpanHeap.create(SpanHeapConfig.builder().name(name).addressSpaceBytes(4L << 30).scavengerEnabled(false).build());
    }

    /**
     * A range of two arenas with one page heap, its first arena mapped (so the page table has
     * exactly one arena's entries: mapping the second replaces the array). The caller unmaps it.
     */
    static AddressRange rangeWithOneArena(long maxHeapBytes) {
        SpanHeapConfig.Builder config = SpanHeapConfig.builder().name("jcstress-range").addressSpaceBytes(2 * HeapArena.BYTES)
                .scavengerEnabled(false);
        if (maxHeapBytes != Long.MAX_VALUE) {
            config.maxHeapBytes(maxHeapBytes);
        }
        AddressRange range = new AddressRange(config.build());
        PageHeap pageHeap = new PageHeap(0, range, false);
        range.setPageHeaps(new PageHeap[] {pageHeap});
        range.mapArena(pageHeap, "jcstress", 0);
        return range;
    }
}
