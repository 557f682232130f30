package dev.spanheap;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The CPU the calling thread runs on, from {@code sched_getcpu} (a vDSO call on Linux, a few
 * nanoseconds as a critical downcall), for spreading virtual threads' shared caches by CPU as
 * TCMalloc spreads its caches: two carrier threads on two CPUs then take different caches, and
 * meet only when one is migrated mid-operation. Where the call is missing, the thread id stands in.
 */
final class CurrentCpu {

    private static final MethodHandle SCHED_GETCPU = find();

    private CurrentCpu() {
    }

    private static MethodHandle find() {
        Linker linker = Linker.nativeLinker();
        Optional<java.lang.foreign.MemorySegment> symbol = linker.defaultLookup().find("sched_getcpu");
        return symbol.map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.JAVA_INT),
                Linker.Option.critical(false))).orElse(null);
    }

    /** The current CPU's number (0 or more), or the current thread's id where the OS cannot say. */
    static int index() {
        if (SCHED_GETCPU != null) {
            try {
                int cpu = (int) SCHED_GETCPU.invokeExact();
                if (cpu >= 0) {
                    return cpu;
                }
            } catch (Throwable e) {
                throw new IllegalStateException("sched_getcpu failed", e);
            }
        }
        return (int) (Thread.currentThread().threadId() & Integer.MAX_VALUE);
    }
}
