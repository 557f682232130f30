package dev.spanheap.bench;

import java.io.PrintStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code spanheap baselines}: which native allocators this machine can compare against. */
@Command(name = "baselines",
        header = "list the baseline allocators found on this machine",
        customSynopsis = "spanheap baselines",
        description = {
                "Lists the allocators the benchmarks compare SpanHeap with, and for each one whether it can",
                "run here (mimalloc and tcmalloc from their Debian packages, jemalloc through LD_PRELOAD)."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        sortOptions = false)
final class BaselinesCommand implements ToolCommand {

    @Mixin
    private HelpOption help;

    @Override
    public int run(PrintStream out, PrintStream err) {
        out.println("glibc malloc     available (" + Environment.describe().get("glibc") + ")");
        for (String name : new String[] {"mimalloc", "tcmalloc"}) {
            String reason = RawAllocator.skipReason(name);
            out.printf("%-16s %s%n", name, reason == null ? "available" : reason);
        }
        if (NativeAllocators.JEMALLOC.available()) {
            out.printf("%-16s %s%n", "jemalloc", "available (preloaded in this process)");
        } else {
            out.printf("%-16s %s%n", "jemalloc", NativeAllocators.jemallocLibrary()
                    .map(p -> "available (benchmarks run it in JVMs started with LD_PRELOAD=" + p + ")")
                    .orElse(NativeAllocators.JEMALLOC.skipReason()));
        }
        out.println("Arena.ofConfined/ofShared, Netty Pooled/Adaptive direct buffers: available (in the jar)");
        return 0;
    }
}
