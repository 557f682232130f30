/**
 * SpanHeap: an off-heap memory allocator for the JVM with Go's design (see {@code docs/design.md}
 * for the long form).
 *
 * <h2>Glossary</h2>
 * <ul>
 * <li><b>heap</b> ({@link dev.spanheap.SpanHeap}): the facade: the API, its lifecycle, and the
 *     fast paths (the pop from the thread's own cache; the free's page-table check and push).</li>
 * <li><b>page</b>: 8 KiB, the allocator's unit of address space.</li>
 * <li><b>address range</b> ({@link dev.spanheap.AddressRange}): the heap's one reservation, the
 *     flat page table the free fast path reads, and the held-bytes count the limit bounds.</li>
 * <li><b>arena</b> ({@link dev.spanheap.HeapArena}, Go's heapArena): 64 MiB of the range, mapped
 *     with one mmap when needed and owned by one page heap; 8192 pages, with a page-to-span table.</li>
 * <li><b>shard</b>: one page heap and one central list per class; each platform thread is bound
 *     to one ({@link dev.spanheap.ThreadCacheRegistry}), as jemalloc binds threads to arenas.</li>
 * <li><b>span</b> ({@link dev.spanheap.Span}, Go's mspan): a run of pages, either cut into equal
 *     slots of one size class (with a bitmap of allocated slots) or holding one large object.</li>
 * <li><b>size class</b> ({@link dev.spanheap.SizeClasses}): Go's 67 slot sizes from 8 B to 32 KiB.</li>
 * <li><b>thread cache</b> ({@link dev.spanheap.ThreadCache}, Go's mcache): per platform thread,
 *     a stack of free slot addresses per class, and a remote-free buffer for slots of other
 *     shards; no lock, no atomics.</li>
 * <li><b>slot allocation, slot free</b> ({@link dev.spanheap.SlotAllocation},
 *     {@link dev.spanheap.SlotFree}): a small allocation that misses the own cache, and the routing
 *     of a small slot freed off the fast path (another shard's, a virtual thread's, the slow path's).</li>
 * <li><b>central list</b> ({@link dev.spanheap.CentralList}, Go's mcentral): per class and shard,
 *     the spans with free slots; moves slots to and from caches in batches
 *     ({@link dev.spanheap.CentralLists} routes slots to the list that holds their span).</li>
 * <li><b>page heap</b> ({@link dev.spanheap.PageHeap}, Go's mheap): per shard, its arenas, their
 *     free page runs ({@link dev.spanheap.FreeRunIndex}: coalesced best fit, O(1) under 1 MiB),
 *     spans and large objects; its {@link dev.spanheap.PageReleaser} returns free runs to the OS.
 *     Objects larger than an arena: {@link dev.spanheap.DedicatedMappings}.</li>
 * <li><b>large objects</b> ({@link dev.spanheap.LargeObjects}, Go's large-object path of
 *     mallocgc): requests that leave the size classes, as page runs or dedicated mappings.</li>
 * <li><b>scavenger</b> ({@link dev.spanheap.Scavenger}): returns idle free pages to the OS.</li>
 * <li><b>JFR events</b> ({@link dev.spanheap.HeapEvents}): arenas mapped, memory released, the
 *     limit reached, out of memory (all from slow paths), and a periodic summary per open heap
 *     ({@link dev.spanheap.OpenHeaps}); no event class loads until a recorder starts.</li>
 * <li><b>heap profiler</b> ({@link dev.spanheap.HeapProfiler}, Go's mprof buckets): when on, the
 *     sampled allocations' stacks and estimates behind {@code profile()}.</li>
 * </ul>
 *
 * <h2>Allocate</h2>
 * <ol>
 * <li>Size to class: one table load. (Over 32 KiB: step 5.)</li>
 * <li>Thread cache: {@code caches[threadId & 4095]}, owner check, pop from the class's stack.
 *     About ten dependent instructions; no lock, no atomic.</li>
 * <li>Empty stack: the central list of the thread's shard refills half a stack's worth under its
 *     lock. A pop whose heap-profile countdown (kept in the class's state word) ran out takes this
 *     slow path too, and is sampled.</li>
 * <li>No partial span: the central list takes a new span from its shard's page heap (that heap's
 *     lock). Large objects go to that page heap directly.</li>
 * <li>No free run of its own that fits: the page heap takes one from another page heap (pages
 *     already held first); only when none has one does it map the range's next arena for itself
 *     (one mmap). Objects larger than an arena get a mapping of their own.</li>
 * </ol>
 *
 * <h2>Free</h2>
 * <ol>
 * <li>Page table: {@code pageInfo[(address - base) >>> 13]}, XORed with the cache's shard tag,
 *     gives the class and the page's place in its span; a multiply checks that the address starts
 *     a slot (of this shard: another shard's slot fails the check).</li>
 * <li>Push on the thread cache's stack for the class.</li>
 * <li>Full stack: the older half goes back to the central lists; a span whose last slot returns
 *     goes back to the page heap that owns its arena, merging with free neighbours.</li>
 * <li>A slot of another shard ({@link dev.spanheap.SlotFree}): to the remote-free buffer, home in
 *     a batch (or, if it fills whole cache lines, on the stack as in step 2).</li>
 * <li>A slot freed by a virtual thread (no cache of its own): the same page-table check, then its
 *     span's bitmap bit (a slot back in its span goes on to the next step, which reports the double
 *     free), then a push on the shared cache of the thread's CPU under that cache's lock.</li>
 * <li>Anything else (large, dedicated, bad address, or any slot of a span holding a live profile
 *     sample, whose page-table entries carry the sampled-span bit) takes {@code freeSlow}, which
 *     checks and explains, and drops a sample before its block is freed.</li>
 * </ol>
 *
 * <h2>Locks</h2>
 * Order: registry lock (thread caches), then a shared cache's lock, then the heap profiler's lock,
 * then a central-list lock, then
 * the range's grow lock, then a page heap lock. No path holds two central-list locks, except
 * verification and heap snapshots, which take them shard by shard in class order; no path holds two
 * page heap locks except the page table's growth and snapshots, which take them all in index order.
 */
package dev.spanheap;
