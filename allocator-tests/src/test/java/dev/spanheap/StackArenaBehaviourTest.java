package dev.spanheap;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What the stack behind {@link SpanHeap#newConfinedArena()} does beyond the Arena contract:
 * nesting, closing out of LIFO order, heap fallbacks, growing and shrinking, threads that end,
 * virtual threads, the statistics, and closing the heap. Each test checks the stack's own
 * invariants ({@link FrameStack#verify}) and the heap's.
 */
class StackArenaBehaviourTest {

    private static void verify(SpanHeap heap) {
        assertNull(heap.threadStacks().verifyCurrentThread());
        assertNull(heap.threadStacks().verifyPooledChunks());
        heap.verifyInvariants();
    }

    @Test
    void nestedArenasStackUpAndPopBackToWhereTheyStarted() {
        try (SpanHeap heap = SpanHeap.create()) {
            try (Arena outer = heap.newConfinedArena()) {
                MemorySegment a = outer.allocate(100);
                try (Arena inner = heap.newConfinedArena()) {
                    MemorySegment b = inner.allocate(100);
                    assertTrue(b.address() >= a.address() + 100, "inner frame sits above the outer one");
                    assertEquals(2, heap.stats().stack().openFrames());
                    b.fill((byte) 1);
                }
                try (Arena again = heap.newConfinedArena()) {
                    MemorySegment c = again.allocate(100);
                    assertEquals(a.address() + 100, c.address(), "the popped frame's memory is reused");
                    assertEquals(0, c.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), "and it was cleared");
                }
                verify(heap);
            }
            StackStats stats = heap.stats().stack();
            assertEquals(0, stats.openFrames());
            assertEquals(0, stats.bytesInUse());
            assertEquals(3, stats.framesOpened());
            assertEquals(200, stats.highWaterBytes());
            verify(heap);
        }
    }

    @Test
    void anOuterArenaAllocatingUnderAnOpenInnerOneUsesTheHeap() {
        try (SpanHeap heap = SpanHeap.create()) {
            try (Arena outer = heap.newConfinedArena()) {
                MemorySegment kept;
                try (Arena inner = heap.newConfinedArena()) {
                    inner.allocate(64);
                    kept = outer.allocate(64);
                    kept.set(ValueLayout.JAVA_LONG, 0, 99);
                    assertEquals(1, heap.stats().stack().fallbackAllocations());
                }
                try (Arena reuse = heap.newConfinedArena()) {
                    reuse.allocate(64).fill((byte) -1);
                }
                assertEquals(99, kept.get(ValueLayout.JAVA_LONG, 0), "the outer arena's segment outlives the inner frame");
            }
            assertEquals(stackChunksOnly(heap), heap.stats().liveObjects(), "the fallback went back to the heap");
            verify(heap);
        }
    }

    @Test
    void closingOutOfOrderInvalidatesAtOnceAndReclaimsWhenTheFramesAbovePop() {
        try (SpanHeap heap = SpanHeap.create()) {
            Arena a = heap.newConfinedArena();
            MemorySegment sa = a.allocate(64);
            Arena b = heap.newConfinedArena();
            MemorySegment sb = b.allocate(64);
            MemorySegment bigB = b.allocate(100_000);
            Arena c = heap.newConfinedArena();
            MemorySegment sc = c.allocate(64);
            sc.fill((byte) 3);
            b.close(); // out of order: c is still open
            assertThrows(IllegalStateException.class, () -> sb.get(ValueLayout.JAVA_BYTE, 0));
            assertThrows(IllegalStateException.class, () -> bigB.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(3, sc.get(ValueLayout.JAVA_BYTE, 63), "c is untouched");
            StackStats during = heap.stats().stack();
            assertEquals(1, during.outOfOrderCloses());
            assertEquals(3, during.openFrames(), "b is popped only with c");
            assertEquals(192, during.bytesInUse());
            MemorySegment more = c.allocate(64);
            assertTrue(more.address() >= sc.address() + 64, "c keeps bumping above b's memory");
            c.close();
            StackStats after = heap.stats().stack();
            assertEquals(1, after.openFrames(), "c and b popped together");
            assertEquals(64, after.bytesInUse());
            try (Arena d = heap.newConfinedArena()) {
                MemorySegment sd = d.allocate(64);
                assertEquals(sa.address() + 64, sd.address(), "b's and c's memory is reused, once");
                assertEquals(0, sd.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            }
            verify(heap);
            a.close();
            assertEquals(0, heap.stats().stack().openFrames());
            assertEquals(stackChunksOnly(heap), heap.stats().liveObjects());
            verify(heap);
        }
    }

    @Test
    void closingTheOutermostFirstThenTheRest() {
        try (SpanHeap heap = SpanHeap.create()) {
            List<Arena> arenas = new ArrayList<>();
            List<MemorySegment> segments = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Arena arena = heap.newConfinedArena();
                arenas.add(arena);
                MemorySegment segment = arena.allocate(5000);
                segment.fill((byte) i);
                segments.add(segment);
            }
            for (int i = 0; i < 9; i++) { // FIFO: each close is out of order but the last
                arenas.get(i).close();
                for (int j = i + 1; j < 10; j++) {
                    assertEquals((byte) j, segments.get(j).get(ValueLayout.JAVA_BYTE, 4999));
                }
            }
            assertEquals(10, heap.stats().stack().openFrames());
            arenas.get(9).close();
            StackStats stats = heap.stats().stack();
            assertEquals(0, stats.openFrames());
            assertEquals(9, stats.outOfOrderCloses());
            assertEquals(0, stats.bytesInUse());
            verify(heap);
        }
    }

    @Test
    void theStackGrowsAcrossChunksAndShrinksBack() {
        try (SpanHeap heap = SpanHeap.create()) {
            try (Arena arena = heap.newConfinedArena()) {
                for (int i = 0; i < 100; i++) {
                    arena.allocate(10_000).set(ValueLayout.JAVA_INT, 9996, i);
                }
                StackStats grown = heap.stats().stack();
                assertTrue(grown.chunks() > 10, "1 MB of frames needs many chunks: " + grown);
                assertEquals(1_000_000, grown.bytesInUse(), 30_000);
                assertEquals(0, grown.fallbackAllocations());
                verify(heap);
            }
            StackStats shrunk = heap.stats().stack();
            assertEquals(2, shrunk.chunks(), "the first chunk and one spare stay");
            assertEquals((8 << 10) + (16 << 10), shrunk.chunkBytes());
            assertTrue(shrunk.highWaterBytes() >= 1_000_000);
            assertEquals(2, heap.stats().liveObjects(), "the other chunks went back to the heap");
            verify(heap);
        }
    }

    @Test
    void bigAndOverAlignedRequestsFallBackToTheHeapAndAreFreedAtClose() {
        try (SpanHeap heap = SpanHeap.create()) {
            long before = heap.stats().liveObjects();
            try (Arena arena = heap.newConfinedArena()) {
                arena.allocate(8); // the stack's first chunk
                before = heap.stats().liveObjects();
                MemorySegment big = arena.allocate(70L << 20); // a dedicated mapping
                MemorySegment large = arena.allocate(100_000);
                MemorySegment aligned = arena.allocate(64, 1 << 14);
                assertEquals(0, aligned.address() % (1 << 14));
                big.set(ValueLayout.JAVA_BYTE, (70L << 20) - 1, (byte) 1);
                large.fill((byte) 2);
                assertEquals(before + 3, heap.stats().liveObjects());
                assertEquals(3, heap.stats().stack().fallbackAllocations());
            }
            assertEquals(before, heap.stats().liveObjects());
            assertEquals(0, heap.stats().dedicatedObjects());
            verify(heap);
        }
    }

    @Test
    void aThreadThatEndsGivesItsStackBack() throws Exception {
        try (SpanHeap heap = SpanHeap.create()) {
            Thread worker = Thread.ofPlatform().start(() -> {
                try (Arena arena = heap.newConfinedArena()) {
                    arena.allocate(10_000);
                    arena.allocate(10_000);
                }
                Arena leaked = heap.newConfinedArena(); // never closed: reclaimed with the thread
                leaked.allocate(100);
                leaked.allocate(1 << 20);
            });
            worker.join();
            assertTrue(heap.stats().stack().threadStacks() == 0, "stats reclaim ended threads' stacks first");
            heap.flushReachableCaches();
            HeapStats stats = heap.stats();
            assertEquals(0, stats.stack().chunks());
            assertEquals(0, stats.liveObjects(), "chunks and the leaked frame's fallback went back");
            assertEquals(2, stats.stack().framesOpened(), "counters of ended threads are kept");
            assertEquals(1, stats.stack().fallbackAllocations());
            assertEquals(0, stats.stack().openFrames(), "the leaked frame went with its thread");
            assertTrue(stats.stack().highWaterBytes() >= 20_000);
            heap.verifyInvariants();
        }
    }

    @Test
    void virtualThreadsHoldNoChunkBetweenArenas() throws Exception {
        try (SpanHeap heap = SpanHeap.create()) {
            int tasks = 2000;
            CountDownLatch allInside = new CountDownLatch(tasks);
            CountDownLatch release = new CountDownLatch(1);
            try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<Long>> results = new ArrayList<>();
                for (int t = 0; t < tasks; t++) {
                    int id = t;
                    results.add(executor.submit(() -> {
                        long sum = 0;
                        for (int round = 0; round < 20; round++) {
                            try (Arena arena = heap.newConfinedArena()) {
                                MemorySegment segment = arena.allocate(256);
                                assertEquals(0, segment.get(ValueLayout.JAVA_LONG, 248));
                                segment.setAtIndex(ValueLayout.JAVA_LONG, 31, id);
                                Thread.yield();
                                sum += segment.getAtIndex(ValueLayout.JAVA_LONG, 31);
                            }
                        }
                        allInside.countDown();
                        release.await(); // parked outside any arena
                        return sum;
                    }));
                }
                allInside.await();
                StackStats parked = heap.stats().stack();
                assertEquals(0, parked.chunks(), "parked virtual threads pin no stack chunk: " + parked);
                assertTrue(parked.pooledChunks() <= 64);
                assertEquals(0, parked.openFrames());
                release.countDown();
                for (int t = 0; t < tasks; t++) {
                    assertEquals(20L * t, results.get(t).get());
                }
            }
            // The executor waits for the tasks; their threads finish terminating a moment later.
            StackStats done = heap.stats().stack();
            for (int wait = 0; wait < 500 && done.threadStacks() != 0; wait++) {
                Thread.sleep(10);
                done = heap.stats().stack();
            }
            assertEquals(0, done.threadStacks(), "ended virtual threads' stacks are reclaimed");
            assertEquals(2000L * 20, done.framesOpened());
            heap.flushReachableCaches();
            assertEquals(done.pooledChunks(), heap.stats().liveObjects(), "only pooled clean chunks remain");
            assertNull(heap.threadStacks().verifyPooledChunks());
            heap.verifyInvariants();
        }
    }

    @Test
    void theHeapRefusesToCloseWhileTheCallerHasAnArenaOpen() {
        SpanHeap heap = SpanHeap.create();
        Arena arena = heap.newConfinedArena();
        MemorySegment segment = arena.allocate(64);
        MemorySegment big = arena.allocate(1 << 20);
        IllegalStateException refused = assertThrows(IllegalStateException.class, heap::close);
        assertTrue(refused.getMessage().contains("1 stack arenas open"), refused.getMessage());
        assertFalse(heap.isClosed());
        segment.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // nothing was unmapped
        arena.close();
        heap.close();
        assertTrue(heap.isClosed());
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> big.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, heap::newConfinedArena);
    }

    @Test
    void theHeapRefusesToCloseWhileAnotherThreadHasAnArenaOpen() throws Exception {
        SpanHeap heap = SpanHeap.create();
        CountDownLatch opened = new CountDownLatch(1);
        CountDownLatch mayClose = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().start(() -> {
            try (Arena arena = heap.newConfinedArena()) {
                arena.allocate(64);
                opened.countDown();
                mayClose.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        opened.await();
        IllegalStateException refused = assertThrows(IllegalStateException.class, heap::close);
        assertTrue(refused.getMessage().contains("1 stack arenas open"), refused.getMessage());
        assertFalse(heap.isClosed());
        heap.allocate(8); // still usable
        mayClose.countDown();
        holder.join();
        heap.close();
        assertTrue(heap.isClosed());
    }

    @Test
    void manyThreadsAtOnceKeepTheirStacksApart() throws Exception {
        try (SpanHeap heap = SpanHeap.create()) {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 8; t++) {
                byte mark = (byte) (t + 1);
                Thread.Builder builder = t % 2 == 0 ? Thread.ofPlatform() : Thread.ofVirtual();
                threads.add(builder.start(() -> {
                    try {
                        for (int i = 0; i < 2000; i++) {
                            try (Arena outer = heap.newConfinedArena()) {
                                MemorySegment a = outer.allocate(1 + i % 3000);
                                a.fill(mark);
                                try (Arena inner = heap.newConfinedArena()) {
                                    MemorySegment b = inner.allocate(1 + (i * 7) % 9000);
                                    assertEquals(0, b.get(ValueLayout.JAVA_BYTE, b.byteSize() - 1));
                                    b.fill(mark);
                                }
                                assertEquals(mark, a.get(ValueLayout.JAVA_BYTE, a.byteSize() - 1));
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(List.of(), failures);
            heap.flushReachableCaches();
            heap.verifyInvariants();
        }
    }

    @Test
    void aStackThatCannotGrowUnderTheLimitStaysConsistent() {
        SpanHeapConfig config = SpanHeapConfig.builder().maxHeapBytes(1 << 20).scavengerEnabled(false).build();
        try (SpanHeap heap = SpanHeap.create(config)) {
            int served = 0;
            OutOfMemoryError refused = null;
            try (Arena arena = heap.newConfinedArena()) {
                try {
                    for (int i = 0; i < 1000; i++) {
                        arena.allocate(10_000).set(ValueLayout.JAVA_INT, 0, i);
                        served++;
                    }
                } catch (OutOfMemoryError e) {
                    refused = e;
                }
                assertNotNull(refused, "1000 x 10 kB cannot fit under a 1 MiB limit");
                assertTrue(served > 50, "served " + served + " before the limit");
                assertNull(heap.threadStacks().verifyCurrentThread(), "the failed growth left the stack as it was");
                assertEquals(16, arena.allocate(16).byteSize(), "the arena still serves what fits");
            }
            StackStats stack = heap.stats().stack();
            assertEquals(0, stack.openFrames());
            assertEquals(2, stack.chunks());
            verify(heap);
            try (Arena again = heap.newConfinedArena()) {
                assertEquals(0, again.allocate(10_000).get(ValueLayout.JAVA_LONG, 9992));
            }
        }
    }

    @Test
    void aVirtualThreadReusesItsPooledChunkAndThePoolStaysBounded() throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 10; i++) {
                    try (Arena arena = heap.newConfinedArena()) {
                        arena.allocate(256).fill((byte) 7);
                    }
                }
            }).join();
            StackStats one = heap.stats().stack();
            assertEquals(1, one.pooledChunks(), "each arena took the chunk the one before gave back: " + one);
            assertEquals(0, one.chunks());
            // Other virtual threads probe other slots first (by thread id, to spread them over
            // the pool), so a run of them one after another fills it, up to its size.
            for (int t = 0; t < 200; t++) {
                Thread.ofVirtual().start(() -> {
                    try (Arena arena = heap.newConfinedArena()) {
                        arena.allocate(256).fill((byte) 7);
                    }
                }).join();
            }
            StackStats many = heap.stats().stack();
            assertTrue(many.pooledChunks() >= 1 && many.pooledChunks() <= 64, "the pool holds at most 64 chunks: " + many);
            heap.flushReachableCaches();
            assertEquals(many.pooledChunks(), heap.stats().liveObjects(), "the pooled chunks are the only live objects");
            LeakReport leaks = heap.leakReport();
            assertFalse(leaks.hasLeaks(), "pooled chunks are not leaks: " + leaks);
            assertEquals(many.pooledChunks(), leaks.stackChunks(), "the leak report counts pooled chunks as the stacks'");
            verify(heap);
        }
    }

    @Test
    void everyCallerGivesTheStackRegistryBack() throws Exception {
        // No scavenger: its pass takes the same lock, and a close waiting for a stuck pass would
        // hang the test instead of failing it.
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            try (Arena open = heap.newConfinedArena()) {
                open.allocate(64);
                assertThrows(IllegalStateException.class, heap::close, "an arena is open");
                heap.leakReport();
                heap.stats();
            }
            // A thread's first arena registers its stack under the registry's lock: the calls
            // above, on this thread, must have given it back.
            Thread newcomer = Thread.ofPlatform().daemon().start(() -> {
                try (Arena arena = heap.newConfinedArena()) {
                    arena.allocate(64);
                }
            });
            newcomer.join(10_000);
            assertFalse(newcomer.isAlive(), "a new thread's first arena waits for a lock nobody holds");
            verify(heap);
        }
    }

    @Test
    void platformThreadsWithOneTableEntryKeepTheirOwnStacks() throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            CountDownLatch ownerOpened = new CountDownLatch(1);
            CountDownLatch sharerReclaimed = new CountDownLatch(1);
            CountDownLatch ownerNested = new CountDownLatch(1);
            CountDownLatch ownerMayClose = new CountDownLatch(1);
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread owner = Thread.ofPlatform().start(() -> {
                try (Arena outer = heap.newConfinedArena()) {
                    MemorySegment kept = outer.allocate(4096);
                    kept.fill((byte) 0x11);
                    ownerOpened.countDown();
                    sharerReclaimed.await();
                    try (Arena inner = heap.newConfinedArena()) {
                        assertEquals(0, inner.allocate(4096).get(ValueLayout.JAVA_LONG, 4088), "the nested frame sits above the kept one");
                        ownerNested.countDown();
                        ownerMayClose.await();
                    }
                    assertEquals(-1, kept.mismatch(MemorySegment.ofArray(new byte[4096]).fill((byte) 0x11)), "the owner's frame kept its bytes");
                    assertNull(heap.threadStacks().verifyCurrentThread());
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            ownerOpened.await();
            Thread sharer = HeapProbe.unstartedThreadOnTheEntryOf(owner, ThreadStacks.TABLE_MASK, () -> {
                for (int i = 0; i < 100; i++) {
                    try (Arena arena = heap.newConfinedArena()) {
                        arena.allocate(1000 + i).fill((byte) 0x22);
                    }
                }
            });
            sharer.start();
            sharer.join();
            assertEquals(1, heap.stats().stack().threadStacks(), "the ended sharer's stack is reclaimed, the owner's kept");
            sharerReclaimed.countDown();
            assertTrue(ownerNested.await(30, TimeUnit.SECONDS), () -> "the owner failed: " + failures);
            StackStats both = heap.stats().stack();
            assertEquals(1, both.threadStacks(), "the owner found its own stack again, not a new one: " + both);
            assertEquals(2, both.openFrames(), "both of the owner's frames are on one stack: " + both);
            ownerMayClose.countDown();
            owner.join();
            assertEquals(List.of(), failures);
            assertEquals(100 + 2, heap.stats().stack().framesOpened());
            verify(heap);
        }
    }

    @Test
    void theRegistrySweepGivesBackEndedThreadsChunks() throws Exception {
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            for (int t = 0; t < 70; t++) {
                Thread.ofPlatform().start(() -> {
                    try (Arena arena = heap.newConfinedArena()) {
                        arena.allocate(100);
                    }
                }).join();
            }
            // Registering past 64 stacks sweeps the ended ones (statistics would reclaim them
            // too, so none are read before this).
            try (Arena arena = heap.newConfinedArena()) {
                arena.allocate(100);
            }
            heap.flushReachableCaches();
            assertEquals(stackChunksOnly(heap), heap.stats().liveObjects(), "every live object is a held or pooled chunk");
            assertEquals(71, heap.stats().stack().framesOpened());
            verify(heap);
        }
    }

    /** Live heap objects that are stack chunks (held or pooled) after every frame closed. */
    private static long stackChunksOnly(SpanHeap heap) {
        StackStats stack = heap.stats().stack();
        return stack.chunks() + stack.pooledChunks();
    }
}
