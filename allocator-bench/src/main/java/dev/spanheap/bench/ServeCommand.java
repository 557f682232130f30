package dev.spanheap.bench;

import dev.spanheap.HeapStats;
import dev.spanheap.netty.SpanHeapByteBufAllocator;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spanheap serve}: runs the HTTP/1.1 {@link EchoServer} on one of three Netty allocators
 * until it is stopped (SIGINT or SIGTERM) or its {@code --seconds} are up, then reports the memory
 * the allocator still counts as used, and for SpanHeap the live objects left in the heap, both of
 * which must be zero.
 */
@Command(name = "serve",
        header = "run an HTTP/1.1 echo server (with a CRC32 header) on a SpanHeap, adaptive or pooled Netty allocator",
        customSynopsis = {"spanheap serve [--allocator spanheap|adaptive|pooled] [--port N] [--host ADDRESS]",
                "               [--threads N] [--seconds N] [--idle-timeout SECONDS] [--paranoid]"},
        description = {
                "Answers every request with its own body (up to 1 MiB) and the body's CRC32 in an X-Checksum header",
                "(eight hex digits). A body over 1 MiB gets 413, a malformed request 400, a truncated one (the client",
                "closed its side, or went quiet for the idle timeout, mid-body) 400. On exit it prints the allocator's",
                "used memory and, for spanheap, the heap's live objects: both 0 unless something leaked (exit code 1)."},
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n",
        sortOptions = false)
final class ServeCommand implements ToolCommand {

    @Spec
    private CommandSpec spec;

    @Option(names = "--allocator", paramLabel = "NAME", defaultValue = "spanheap",
            description = {"spanheap (SpanHeap.shared(), see the README for its properties), adaptive",
                    "(Netty 4.2's default) or pooled (default ${DEFAULT-VALUE})"})
    private String name;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "TCP port, 0 for any free one (default ${DEFAULT-VALUE})")
    private long portOption;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1", description = "address to bind (default ${DEFAULT-VALUE})")
    private String host;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2", description = "event-loop threads (default ${DEFAULT-VALUE})")
    private long threadsOption;

    @Option(names = "--seconds", paramLabel = "N", defaultValue = "0", description = "stop after N seconds (default: run until stopped)")
    private long secondsOption;

    @Option(names = "--idle-timeout", paramLabel = "S", defaultValue = "10",
            description = "seconds of silence mid-request before it is answered as truncated (default ${DEFAULT-VALUE})")
    private long idleOption;

    @Option(names = "--paranoid", description = "Netty leak detection at PARANOID (every buffer tracked)")
    private boolean paranoid;

    @Mixin
    private HelpOption help;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        int port = OptionChecks.between(spec, "--port", portOption, 0, 65535);
        int threads = OptionChecks.between(spec, "--threads", threadsOption, 1, 256);
        int seconds = OptionChecks.between(spec, "--seconds", secondsOption, 0, 86_400);
        int idleSeconds = OptionChecks.between(spec, "--idle-timeout", idleOption, 1, 3600);
        if (paranoid) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        ByteBufAllocator allocator = switch (name) {
            case "spanheap" -> new SpanHeapByteBufAllocator();
            case "adaptive" -> new AdaptiveByteBufAllocator();
            case "pooled" -> new PooledByteBufAllocator(true);
            default -> throw OptionChecks.usageError(spec, "--allocator must be spanheap, adaptive or pooled, was '" + name + "'");
        };

        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "spanheap-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            int leaks;
            try (EchoServer server = EchoServer.start(allocator, host, port, threads, Duration.ofSeconds(idleSeconds))) {
                out.printf(Locale.ROOT, "spanheap serve: listening on http://%s:%d/ with the %s allocator (pid %d)%n",
                        host, server.port(), name, ProcessHandle.current().pid());
                out.flush();
                if (seconds > 0) {
                    stop.await(seconds, TimeUnit.SECONDS);
                } else {
                    stop.await();
                }
            }
            leaks = reportLeftovers(name, allocator, out);
            out.flush();
            return leaks == 0 ? 0 : 1;
        } finally {
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running: it is what stopped us.
            }
        }
    }

    /** Prints what the allocator still holds after the server stopped; returns the count of problems. */
    static int reportLeftovers(String name, ByteBufAllocator allocator, PrintStream out) {
        int problems = 0;
        if (allocator instanceof ByteBufAllocatorMetricProvider provider) {
            long used = provider.metric().usedDirectMemory();
            out.printf(Locale.ROOT, "spanheap serve: stopped; %s allocator's used direct memory: %,d bytes%n", name, used);
            if (allocator instanceof SpanHeapByteBufAllocator && used != 0) {
                problems++;
            }
        }
        if (allocator instanceof SpanHeapByteBufAllocator spanHeap) {
            HeapStats stats = spanHeap.heap().stats();
            out.printf(Locale.ROOT, "spanheap serve: heap live objects: %d (%,d bytes)%n", stats.liveObjects(), stats.allocatedBytes());
            if (stats.liveObjects() != 0) {
                problems++;
            }
        }
        return problems;
    }
}
