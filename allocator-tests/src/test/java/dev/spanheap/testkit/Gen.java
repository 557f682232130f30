package dev.spanheap.testkit;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded source of test data: the same seed always yields the same values, so a failing sequence
 * can be rebuilt from its seed alone. Thin on purpose: the properties build their own domain
 * generators (sizes, alignments, actions) on top of these few draws.
 */
public final class Gen {

    private final SplittableRandom random;
    private final long seed;

    public Gen(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    /** The seed this generator was built from. */
    public long seed() {
        return seed;
    }

    /** Uniform in {@code [0, bound)}. */
    public int below(int bound) {
        return random.nextInt(bound);
    }

    /** Uniform in {@code [low, high]} (both inclusive). */
    public long between(long low, long high) {
        return random.nextLong(low, high + 1);
    }

    /** True with probability {@code p}. */
    public boolean chance(double p) {
        return random.nextDouble() < p;
    }

    /** Any int (used as an opaque choice, e.g. "which live allocation", resolved when the action runs). */
    public int anyInt() {
        return random.nextInt() & Integer.MAX_VALUE;
    }

    public <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

    public long pick(long... values) {
        return values[random.nextInt(values.length)];
    }

    /** An index chosen with the given relative weights. */
    public int weighted(int... weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int roll = random.nextInt(total);
        for (int i = 0; i < weights.length; i++) {
            roll -= weights[i];
            if (roll < 0) {
                return i;
            }
        }
        throw new AssertionError("unreachable");
    }

    /** SplitMix64's finaliser: spreads consecutive inputs into unrelated seeds. */
    public static long mix(long value) {
        long z = value + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
