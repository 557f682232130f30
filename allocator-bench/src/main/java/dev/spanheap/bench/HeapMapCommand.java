package dev.spanheap.bench;

import dev.spanheap.HeapStats;
import dev.spanheap.SpanHeap;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spanheap heapmap}: runs a workload that fragments the heap (many blocks of mixed sizes,
 * most of them freed at random) and writes {@link SpanHeap#heapMap} as an SVG picture.
 */
@Command(name = "heapmap",
        header = "fragment a heap with a mixed workload and write its heap map (SVG)",
        customSynopsis = "spanheap heapmap [--out FILE] [--objects N] [--keep FRACTION] [--seed SEED]",
        description = {
                "Allocates N blocks (sizes from a realistic mix of 8 B to 256 KiB, plus some large objects of up to",
                "2 MiB), frees all but a random FRACTION of them, which leaves spans partly used and free runs",
                "scattered between live pages, then writes the heap map: every arena's pages coloured by state."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        sortOptions = false)
final class HeapMapCommand implements ToolCommand {

    @Spec
    private CommandSpec spec;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "heapmap.svg",
            description = "where to write the SVG (default ${DEFAULT-VALUE})")
    private Path file;

    @Option(names = "--objects", paramLabel = "N", defaultValue = "100000", converter = WholeNumberConverter.class,
            description = "blocks to allocate (default ${DEFAULT-VALUE})")
    private long objectCount;

    @Option(names = "--keep", paramLabel = "FRACTION", defaultValue = "0.3",
            description = "share of blocks kept alive, 0 to 1 (default ${DEFAULT-VALUE})")
    private double keepFraction;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1", converter = WholeNumberConverter.class,
            description = "random seed (default ${DEFAULT-VALUE})")
    private long seed;

    @Mixin
    private HelpOption help;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        int objects = OptionChecks.between(spec, "--objects", objectCount, 1, 50_000_000);
        double keep = OptionChecks.between(spec, "--keep", keepFraction, 0, 1);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw OptionChecks.usageError(spec, "--out: directory " + parent + " does not exist");
        }

        try (SpanHeap heap = SpanHeap.create()) {
            SplittableRandom random = new SplittableRandom(seed);
            int[] sizes = SizeDistribution.table(seed);
            long[] addresses = new long[objects];
            for (int i = 0; i < objects; i++) {
                long size = random.nextInt(400) == 0 ? random.nextLong(33 << 10, (2 << 20) + 1) : sizes[i & SizeDistribution.TABLE_MASK];
                addresses[i] = heap.allocateAddress(size);
            }
            long kept = 0;
            for (int i = 0; i < objects; i++) {
                if (random.nextDouble() < keep) {
                    kept++;
                } else {
                    heap.freeAddress(addresses[i]);
                }
            }
            HeapStats stats = heap.stats();
            out.printf(Locale.ROOT, "%,d blocks allocated, %,d kept: %s live in %s of spans, %d arenas, %,d free runs%n",
                    objects, kept, ResultRenderer.mib(stats.allocatedBytes()), ResultRenderer.mib(stats.spanBytes()),
                    stats.arenas(), stats.freeRuns());
            out.printf(Locale.ROOT, "small-object fragmentation %.1f %%, free-page fragmentation %.1f %%%n",
                    100 * stats.smallFragmentation(), 100 * stats.externalFragmentation());
            try {
                heap.heapMap(file);
            } catch (UnsupportedOperationException e) {
                err.println("spanheap heapmap: this build's core cannot draw heap maps yet (" + e.getMessage() + ")");
                return 1;
            }
            out.println("wrote " + file.toAbsolutePath() + " (" + Files.size(file) + " bytes)");
            return 0;
        }
    }
}
