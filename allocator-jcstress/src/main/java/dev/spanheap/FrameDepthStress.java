package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Stack-frame depth reads (docs/design.md: a thread's {@link FrameStack} is its owner's, which
 * writes {@code depth} plainly; {@code close()}'s check reads it racily with the opaque
 * {@link FrameStack#depth()}). The owner opens a frame (the store {@code FrameStack.open} makes:
 * {@code depth = index + 1}) and then tells another thread so through a volatile flag, as a
 * thread that has an arena open and signals "ready" would; the other thread reads the depth, as
 * {@link ThreadStacks#checkClosable} does. The claim: once the signal is seen, the open frame is
 * seen, so the heap refuses to close under an open arena that it was told about.
 */
@JCStressTest
@Outcome(id = "0, [01]", expect = ACCEPTABLE, desc = "no signal seen yet (the depth may or may not be seen: a race with close, by nature)")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "signal seen, open frame seen")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "the owner said it had a frame open, and the close check saw none")
@Outcome(expect = FORBIDDEN, desc = "a depth the owner never wrote")
@State
public class FrameDepthStress {

    private final FrameStack stack = new FrameStack(Thread.currentThread(), null);
    private volatile int signalled;

    @Actor
    public void owner() {
        int index = stack.depth;
        stack.depth = index + 1;
        signalled = 1;
    }

    @Actor
    public void closeCheck(II_Result r) {
        r.r1 = signalled;
        r.r2 = stack.depth();
    }
}
