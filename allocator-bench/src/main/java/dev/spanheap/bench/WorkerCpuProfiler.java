package dev.spanheap.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler that reports the CPU time the benchmark's worker threads spent per operation
 * ({@code -prof dev.spanheap.bench.WorkerCpuProfiler}): on a machine shared with other busy
 * processes, a worker that is descheduled keeps its wall-clock score running but not its CPU
 * clock, so this figure moves far less with the machine's load than the primary score does, and
 * a small difference between two builds of a fast path can be seen where the wall clock hides it.
 * (Hardware counters, which {@code perfnorm} reads, are not available in every VM.) It still
 * counts what co-running processes cost a worker through shared caches and cores.
 */
public final class WorkerCpuProfiler implements InternalProfiler {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> cpuAtStart = new HashMap<>();

    @Override
    public String getDescription() {
        return "CPU time of the JMH worker threads per operation (ns/op)";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        cpuAtStart.clear();
        cpuAtStart.putAll(workerCpuNanos());
    }

    @Override
    public List<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
            IterationResult result) {
        long spent = 0;
        for (Map.Entry<Long, Long> worker : workerCpuNanos().entrySet()) {
            spent += worker.getValue() - cpuAtStart.getOrDefault(worker.getKey(), 0L);
        }
        long ops = result.getMetadata().getMeasuredOps();
        if (ops <= 0) {
            return List.of();
        }
        return List.of(new ScalarResult("worker.cpu", (double) spent / ops, "ns/op", AggregationPolicy.AVG));
    }

    /** CPU nanoseconds of every live JMH worker thread, by thread id. */
    private static Map<Long, Long> workerCpuNanos() {
        Map<Long, Long> cpu = new HashMap<>();
        for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info != null && info.getThreadName().contains("jmh-worker")) {
                long nanos = THREADS.getThreadCpuTime(info.getThreadId());
                if (nanos >= 0) {
                    cpu.put(info.getThreadId(), nanos);
                }
            }
        }
        return cpu;
    }
}
