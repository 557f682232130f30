package dev.spanheap;

import dev.spanheap.testkit.ProcessLimits;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The child-JVM side of {@link AddressSpaceLimitTest}: each scenario runs in a JVM of its own,
 * under an address-space limit that would be unsafe in the test JVM, and prints {@code key value}
 * lines the parent checks. Every check that fails here throws, so the child exits non-zero with
 * the reason on stderr.
 */
final class AddressSpaceChild {

    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final long MIB = 1L << 20;

    private AddressSpaceChild() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "default-heap" -> defaultHeapUnderLimit();
            case "refused-after-creation" -> refusedAfterCreation();
            default -> throw new IllegalArgumentException("unknown scenario " + args[0]);
        }
    }

    /** Blocks this scenario holds, each stamped with a pattern of its address at both ends. */
    private record Block(long address, long size) {
        void stamp() {
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, ~address);
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address + size - 8, address * 31);
        }

        void check() {
            if (ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address) != ~address
                    || ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address + size - 8) != address * 31) {
                throw new AssertionError("the block at " + Long.toHexString(address) + " (" + size + " bytes) lost its contents");
            }
        }
    }

    private static Block allocate(SpanHeap heap, long size) {
        Block block = new Block(heap.allocateAddress(size), size);
        block.stamp();
        return block;
    }

    /**
     * Run under prlimit --as: the default heap is created (a smaller range), fills to its
     * reservation, fails cleanly past it, and stays usable; an explicit size that does not fit
     * fails with the OS's error; a dedicated mapping the limit cannot hold fails cleanly.
     */
    private static void defaultHeapUnderLimit() {
        try {
            SpanHeap.create(SpanHeapConfig.builder().addressSpaceBytes(SpanHeapConfig.DEFAULT_ADDRESS_SPACE_BYTES).build()).close();
            throw new AssertionError("an explicit 256 GiB address space was reserved under the limit");
        } catch (OutOfMemoryError expected) {
            System.out.println("explicit-error " + expected.getMessage());
        }
        try (SpanHeap heap = SpanHeap.create(SpanHeapConfig.builder().scavengerEnabled(false).build())) {
            MachineStats machine = heap.stats().machine();
            System.out.println("requested " + machine.requestedAddressSpaceBytes());
            System.out.println("reserved " + machine.reservedAddressSpaceBytes());
            System.out.println("report-line " + heap.report().lines().filter(l -> l.contains("address space:")).findFirst().orElse(""));
            List<Block> blocks = new ArrayList<>();
            blocks.add(allocate(heap, 100));
            long large = 32 * MIB;
            OutOfMemoryError refused = null;
            while (refused == null) {
                try {
                    blocks.add(allocate(heap, large));
                } catch (OutOfMemoryError e) {
                    refused = e;
                }
            }
            System.out.println("full-error " + refused.getMessage());
            System.out.println("large-blocks " + (blocks.size() - 1));
            checkExact(heap, blocks);
            // Usable afterwards: a block freed makes room again, small objects fit.
            Block freed = blocks.remove(blocks.size() - 1);
            heap.freeAddress(freed.address());
            for (int i = 0; i < 1000; i++) {
                blocks.add(allocate(heap, 16 + i % 2000));
            }
            blocks.add(allocate(heap, 8 * MIB));
            checkExact(heap, blocks);
            // A dedicated mapping (larger than an arena) that the address-space limit cannot hold.
            try {
                heap.allocateAddress(4L << 30);
                throw new AssertionError("a 4 GiB mapping succeeded under the limit");
            } catch (OutOfMemoryError expected) {
                System.out.println("dedicated-error " + expected.getMessage());
            }
            checkExact(heap, blocks);
            for (Block block : blocks) {
                heap.freeAddress(block.address());
            }
            HeapProbe.flushCaches(heap);
            HeapProbe.verify(heap);
            System.out.println("live-at-end " + heap.stats().liveObjects());
        }
        // The process-wide heap is built from the default configuration too.
        SpanHeap shared = SpanHeap.shared();
        Block block = allocate(shared, 1000);
        block.check();
        shared.freeAddress(block.address());
        System.out.println("shared-reserved " + shared.stats().machine().reservedAddressSpaceBytes());
        System.out.println("ok");
    }

    /**
     * Creates heaps, fills their first arena, then lowers this process's RLIMIT_AS below its size,
     * so that every mmap fails from then on, MAP_FIXED over the reservation included: each path
     * that needs memory from the OS (a small refill needing a new span, a large object, a dedicated
     * mapping, checked mode's refill, a stack frame's chunk, a virtual thread's shared cache) must
     * fail cleanly while allocations that fit keep working.
     *
     * <p>Under that limit the JVM itself cannot grow either (a class loaded now needs metaspace it
     * cannot commit, and the JVM aborts), so the same paths first run to failure on warm-up heaps
     * whose one-arena range is full, and an impossible mapping (100 TiB) runs the OS-refusal
     * message once: every class those paths need is loaded before the limit is set.
     */
    private static void refusedAfterCreation() throws Exception {
        SpanHeapConfig.Builder quiet = SpanHeapConfig.builder().shards(1).scavengerEnabled(false);
        SpanHeap warmHeap = SpanHeap.create(quiet.name("warm").addressSpaceBytes(HeapProbe.ARENA_BYTES).build());
        SpanHeap warmChecked = SpanHeap.create(quiet.name("warm-checked").checked(true).build());
        Paths warm = new Paths(warmHeap, warmChecked, 100L << 40);
        warm.fill();
        warm.exercise(false);
        SpanHeapConfig.Builder real = SpanHeapConfig.builder().shards(1).scavengerEnabled(false);
        Paths paths = new Paths(SpanHeap.create(real.name("refused").build()),
                SpanHeap.create(real.name("refused-checked").checked(true).build()), 128 * MIB);
        paths.fill();

        ProcessLimits.setAddressSpaceLimit(ProcessLimits.virtualSize() - 64 * MIB);
        // From here on the JVM must define no class: a first string concatenation with + would
        // spin one up, and the JVM may not get the metaspace for it, so the lines use concat().
        System.out.println("limit-set ".concat(Long.toString(ProcessLimits.virtualSize())));
        paths.exercise(true);

        // Memory freed inside the heap is reused without the OS: the full arena's big block goes,
        // and the paths that failed now succeed.
        Block big = paths.blocks.remove(1);
        paths.heap.freeAddress(big.address());
        paths.blocks.add(allocate(paths.heap, 4000));
        paths.blocks.add(allocate(paths.heap, MIB));
        checkExact(paths.heap, paths.blocks);
        System.out.println("ok");
        System.out.flush();
        // Closing would unmap, which the limit allows, but nothing is left to check: exit now.
        Runtime.getRuntime().halt(0);
    }

    /** One default heap and one checked heap whose first arena is full, and the paths that then need the OS. */
    private static final class Paths {
        final SpanHeap heap;
        final SpanHeap checked;
        final long dedicatedBytes;
        final List<Block> blocks = new ArrayList<>();
        final List<Block> checkedBlocks = new ArrayList<>();
        final Throwable[] fromVirtual = {null};
        final Runnable virtualRefill;

        Paths(SpanHeap heap, SpanHeap checked, long dedicatedBytes) {
            this.heap = heap;
            this.checked = checked;
            this.dedicatedBytes = dedicatedBytes;
            this.virtualRefill = () -> {
                try {
                    heap.allocateAddress(6000);
                } catch (Throwable t) {
                    fromVirtual[0] = t;
                }
            };
        }

        /** A block of the 48-byte class in each heap, then the rest of arena 0 in one large object. */
        void fill() throws InterruptedException {
            for (SpanHeap h : List.of(heap, checked)) {
                List<Block> held = h == heap ? blocks : checkedBlocks;
                held.add(allocate(h, 48));
                Block large = allocate(h, MIB);
                h.freeAddress(large.address());
                HeapProbe.flushCaches(h); // the freed run back in the page heap (out of this thread's page cache)
                try (Arena frame = h.newConfinedArena()) {
                    frame.allocate(100).fill((byte) 1);
                }
                HeapProbe.flushCaches(h);
                held.add(allocate(h, h.stats().freePageBytes()));
                if (h.stats().freePageBytes() != 0 || h.stats().arenas() != 1) {
                    throw new AssertionError(h + ": arena 0 not full: " + h.stats().freePageBytes() + " free bytes, "
                            + h.stats().arenas() + " arenas");
                }
            }
            Thread warmCarrier = Thread.ofVirtual().start(() -> heap.freeAddress(heap.allocateAddress(48)));
            warmCarrier.join();
        }

        /** Allocations that fit succeed; each path that needs a new arena or mapping fails cleanly; nothing is lost. */
        void exercise(boolean print) throws InterruptedException {
            for (int i = 0; i < 100; i++) {
                blocks.add(allocate(heap, 48));
                checkedBlocks.add(allocate(checked, 48));
            }
            for (String path : new String[] {"small-new-span", "large", "dedicated", "checked-small-new-span", "stack-chunk"}) {
                try {
                    long address = tryPath(path);
                    throw new AssertionError(path + ": succeeded under the limit at " + Long.toHexString(address));
                } catch (OutOfMemoryError e) {
                    // Built in the warm-up pass too: linking a string concatenation defines a class,
                    // which under the limit may need metaspace the JVM cannot commit.
                    String line = "refused-" + path + " " + e.getMessage();
                    if (print) {
                        System.out.println(line);
                    }
                }
            }
            fromVirtual[0] = null;
            Thread virtual = Thread.ofVirtual().start(virtualRefill);
            virtual.join();
            if (!(fromVirtual[0] instanceof OutOfMemoryError e)) {
                throw new AssertionError("a virtual thread's refill under the limit gave " + fromVirtual[0]);
            }
            String line = "refused-virtual-new-span " + e.getMessage();
            if (print) {
                System.out.println(line);
            }
            checkExact(heap, blocks);
            checkExact(checked, checkedBlocks);
        }

        private long tryPath(String path) {
            switch (path) {
                case "small-new-span":
                    return heap.allocateAddress(4000);
                case "large":
                    return heap.allocateAddress(MIB);
                case "dedicated":
                    return heap.allocateAddress(dedicatedBytes);
                case "checked-small-new-span":
                    return checked.allocateAddress(4000);
                case "stack-chunk":
                    try (Arena frame = heap.newConfinedArena()) {
                        return frame.allocate(MIB).address();
                    }
                default:
                    throw new IllegalArgumentException(path);
            }
        }
    }

    /** The heap's statistics and invariants agree with the blocks held, and every block kept its contents. */
    private static void checkExact(SpanHeap heap, List<Block> blocks) {
        HeapProbe.flushCaches(heap);
        HeapProbe.verify(heap);
        HeapStats stats = heap.stats();
        // The thread stacks' chunks come from the heap too: live objects the test does not hold.
        long stackChunks = stats.stack().chunks() + stats.stack().pooledChunks();
        if (stats.liveObjects() != blocks.size() + stackChunks) {
            throw new AssertionError(heap + ": stats count " + stats.liveObjects() + " live objects, the test holds "
                    + blocks.size() + " and the thread stacks " + stackChunks);
        }
        if (stats.heldBytes() != stats.spanBytes() + stats.retainedFreeBytes() + stats.dedicatedBytes()) {
            throw new AssertionError(heap + ": held " + stats.heldBytes() + " != spans + retained + dedicated");
        }
        for (Block block : blocks) {
            block.check();
        }
    }
}
