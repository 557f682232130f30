package dev.spanheap.bench;

import java.io.PrintStream;
import java.util.Set;

/** {@code spanheap baselines}: which native allocators this machine can compare against. */
final class BaselinesCommand implements SpanHeapTool.Command {

    @Override
    public String summary() {
        return "list the baseline allocators found on this machine";
    }

    @Override
    public String usage() {
        return """
                Usage: spanheap baselines

                Lists the allocators the benchmarks compare SpanHeap with, and for each one whether it can
                run here (mimalloc and tcmalloc from their Debian packages, jemalloc through LD_PRELOAD).
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        CommandLine.parse(args, 1, Set.of(), Set.of());
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
