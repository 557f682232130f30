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
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code spanheap serve}: runs the HTTP/1.1 {@link EchoServer} on one of three Netty allocators
 * until it is stopped (SIGINT or SIGTERM) or its {@code --seconds} are up, then reports the memory
 * the allocator still counts as used, and for SpanHeap the live objects left in the heap, both of
 * which must be zero.
 */
final class ServeCommand implements SpanHeapTool.Command {

    @Override
    public String summary() {
        return "run an HTTP/1.1 echo server (with a CRC32 header) on a SpanHeap, adaptive or pooled Netty allocator";
    }

    @Override
    public String usage() {
        return """
                Usage: spanheap serve [--allocator spanheap|adaptive|pooled] [--port N] [--host ADDRESS]
                                      [--threads N] [--seconds N] [--idle-timeout SECONDS] [--paranoid]

                Answers every request with its own body (up to 1 MiB) and the body's CRC32 in an X-Checksum header
                (eight hex digits). A body over 1 MiB gets 413, a malformed request 400, a truncated one (the client
                closed its side, or went quiet for the idle timeout, mid-body) 400. On exit it prints the allocator's
                used memory and, for spanheap, the heap's live objects: both 0 unless something leaked (exit code 1).

                Options:
                  --allocator NAME    spanheap (SpanHeap.shared(), see the README for its properties), adaptive
                                      (Netty 4.2's default) or pooled (default spanheap)
                  --port N            TCP port, 0 for any free one (default 8080)
                  --host ADDRESS      address to bind (default 127.0.0.1)
                  --threads N         event-loop threads (default 2)
                  --seconds N         stop after N seconds (default: run until stopped)
                  --idle-timeout S    seconds of silence mid-request before it is answered as truncated (default 10)
                  --paranoid          Netty leak detection at PARANOID (every buffer tracked)
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        CommandLine line = CommandLine.parse(args, 1, Set.of("paranoid"),
                Set.of("allocator", "port", "host", "threads", "seconds", "idle-timeout"));
        String name = line.value("allocator", "spanheap");
        int port = line.intValue("port", 8080, 0, 65535);
        String host = line.value("host", "127.0.0.1");
        int threads = line.intValue("threads", 2, 1, 256);
        int seconds = line.intValue("seconds", 0, 0, 86_400);
        int idleSeconds = line.intValue("idle-timeout", 10, 1, 3600);
        if (line.flag("paranoid")) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
        ByteBufAllocator allocator = switch (name) {
            case "spanheap" -> new SpanHeapByteBufAllocator();
            case "adaptive" -> new AdaptiveByteBufAllocator();
            case "pooled" -> new PooledByteBufAllocator(true);
            default -> throw new CommandLine.UsageException("--allocator must be spanheap, adaptive or pooled, was '" + name + "'");
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
