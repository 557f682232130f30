/**
 * SpanHeap: an off-heap memory allocator for the JVM with Go's design (see {@code docs/design.md}
 * for the long form).
 *
 * <h2>Glossary</h2>
 * <ul>
 * <li><b>page</b>: 8 KiB, the allocator's unit of address space.</li>
 * <li><b>arena</b> ({@link dev.spanheap.HeapArena}, Go's heapArena): 64 MiB of the heap's reserved
 *     address range, mapped with one mmap when needed; 8192 pages, with a page-to-span table.</li>
 * <li><b>span</b> ({@link dev.spanheap.Span}, Go's mspan): a run of pages, either cut into equal
 *     slots of one size class (with a bitmap of allocated slots) or holding one large object.</li>
 * <li><b>size class</b> ({@link dev.spanheap.SizeClasses}): Go's 67 slot sizes from 8 B to 32 KiB.</li>
 * <li><b>thread cache</b> ({@link dev.spanheap.ThreadCache}, Go's mcache): per platform thread,
 *     a stack of free slot addresses per class; no lock, no atomics.</li>
 * <li><b>central list</b> ({@link dev.spanheap.CentralList}, Go's mcentral): per class, the spans
 *     with free slots; moves slots to and from caches in batches.</li>
 * <li><b>page heap</b> ({@link dev.spanheap.PageHeap}, Go's mheap): the arenas, the free page runs
 *     (coalesced, address-ordered best fit), large objects and dedicated mappings.</li>
 * <li><b>scavenger</b> ({@link dev.spanheap.Scavenger}): returns idle free pages to the OS.</li>
 * </ul>
 *
 * <h2>Allocate</h2>
 * <ol>
 * <li>Size to class: one table load. (Over 32 KiB: step 5.)</li>
 * <li>Thread cache: {@code caches[threadId & 4095]}, owner check, pop from the class's stack.
 *     About ten dependent instructions; no lock, no atomic.</li>
 * <li>Empty stack: the central list refills half a stack's worth under its lock.</li>
 * <li>No partial span: the central list takes a new span from the page heap (heap lock).</li>
 * <li>No free run long enough (or a large object): the page heap maps a new arena (one mmap).
 *     Objects larger than an arena get a mapping of their own.</li>
 * </ol>
 *
 * <h2>Free</h2>
 * <ol>
 * <li>Page table: {@code pageInfo[(address - base) >>> 13]} gives the class and the page's place in
 *     its span; a multiply checks that the address starts a slot.</li>
 * <li>Push on the thread cache's stack for the class.</li>
 * <li>Full stack: the older half goes back to the central list; a span whose last slot returns
 *     goes back to the page heap, merging with free neighbours.</li>
 * <li>Anything else (large, dedicated, bad address) takes {@code freeSlow}, which checks and
 *     explains.</li>
 * </ol>
 *
 * <h2>Locks</h2>
 * Order: registry lock (thread caches), then a shared cache's lock, then a central-list lock, then
 * the page heap lock. No path holds two central-list locks, except verification and heap
 * snapshots, which take them in class order.
 */
package dev.spanheap;
