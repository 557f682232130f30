package dev.spanheap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shared caches' lock: mutual exclusion under heavy contention of platform and virtual threads, and holders that block. */
class SharedCacheLockTest {

    /** Guarded by the lock under test: plain fields, so a lost update or an overlap shows. */
    private long counter;
    private int inside;

    @Test
    void platformAndVirtualThreadsNeverHoldItTogether() throws InterruptedException {
        SharedCacheLock lock = new SharedCacheLock();
        int platform = 3;
        int virtual = 200;
        int rounds = 5_000;
        int[] overlaps = new int[1];
        Runnable body = () -> {
            for (int i = 0; i < rounds; i++) {
                lock.lock();
                try {
                    if (++inside != 1) {
                        overlaps[0]++;
                    }
                    counter++;
                    if ((i & 1023) == 0) {
                        Thread.yield(); // a holder that gives up its carrier or CPU
                    }
                    inside--;
                } finally {
                    lock.unlock();
                }
            }
        };
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < platform; t++) {
            threads.add(Thread.ofPlatform().start(body));
        }
        for (int t = 0; t < virtual; t++) {
            threads.add(Thread.ofVirtual().start(body));
        }
        for (Thread t : threads) {
            t.join();
        }
        lock.lock();
        try {
            assertEquals(0, overlaps[0], "two threads held the lock at once");
            assertEquals((long) (platform + virtual) * rounds, counter, "updates under the lock were lost");
            assertTrue(lock.isLocked());
        } finally {
            lock.unlock();
        }
        assertFalse(lock.isLocked());
    }
}
