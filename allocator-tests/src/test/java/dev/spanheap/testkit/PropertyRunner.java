package dev.spanheap.testkit;

import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs a model-based property: generates sequences of actions from seeds, runs each one, and on
 * the first failure shrinks it (see {@link Shrinker}) and fails with the seed, the replay flag and
 * the minimal sequence.
 *
 * <p>Seeds: each run draws a fresh base seed (printed), and sequence {@code i} uses
 * {@code Gen.mix(base + i)}. {@code -Dspanheap.seed=S} replays exactly the sequence with seed
 * {@code S} (one try); {@code -Dspanheap.tries=N} runs N sequences instead of the property's
 * default (a longer search); {@code -Dspanheap.actions=N} runs sequences until at least N actions
 * have run (the long runs of docs/testing.md), printing progress every million actions.
 *
 * @param <A> the action type: plain data with a readable {@code toString()}
 */
public final class PropertyRunner<A> {

    /** System property that replays one sequence. */
    public static final String SEED_PROPERTY = "spanheap.seed";
    /** System property that sets the number of sequences per property. */
    public static final String TRIES_PROPERTY = "spanheap.tries";
    /** System property that runs sequences until at least this many actions have run (overrides the tries). */
    public static final String ACTIONS_PROPERTY = "spanheap.actions";
    /** System property that sets the longest sequence a generator makes (for long runs: fewer, longer sequences). */
    public static final String MAX_LENGTH_PROPERTY = "spanheap.maxLength";
    private static final long PROGRESS_EVERY_ACTIONS = 1_000_000;

    private static final int SHRINK_BUDGET = 600;

    private final String name;
    private final int defaultTries;
    private final Function<Gen, List<A>> generator;
    private final Consumer<List<A>> property;
    private final Function<A, List<A>> simpler;

    /**
     * @param name         shown in messages, e.g. {@code "HeapModelPropertyTest#defaultMode"}
     * @param defaultTries sequences per run unless {@code -Dspanheap.tries} says otherwise
     * @param generator    builds one sequence from a seeded generator
     * @param property     runs one sequence from scratch and throws (any Throwable) on failure
     * @param simpler      simpler replacements of one action, for shrinking
     */
    public PropertyRunner(String name, int defaultTries, Function<Gen, List<A>> generator,
                          Consumer<List<A>> property, Function<A, List<A>> simpler) {
        this.name = name;
        this.defaultTries = defaultTries;
        this.generator = generator;
        this.property = property;
        this.simpler = simpler;
    }

    /**
     * The longest sequence a generator should make: {@code -Dspanheap.maxLength} if set (a long
     * run's fewer, longer sequences; a replay needs the same value, which the failure message
     * repeats), else {@code defaultMax}.
     */
    public static int maxLength(int defaultMax) {
        String raw = System.getProperty(MAX_LENGTH_PROPERTY);
        if (raw == null) {
            return defaultMax;
        }
        try {
            int max = Integer.parseInt(raw.trim());
            if (max >= 1) {
                return max;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + MAX_LENGTH_PROPERTY + " must be a whole number of at least 1, was '" + raw + "'");
    }

    /** Runs the property; returns what was run, or throws {@link AssertionError} describing the minimal failure. */
    public Summary run() {
        long started = System.nanoTime();
        String replay = System.getProperty(SEED_PROPERTY);
        long baseSeed;
        int tries;
        if (replay != null && !replay.isBlank()) {
            baseSeed = Long.parseLong(replay.trim());
            tries = 1;
        } else {
            baseSeed = Gen.mix(System.nanoTime() ^ Thread.currentThread().threadId() ^ name.hashCode());
            tries = Integer.getInteger(TRIES_PROPERTY, defaultTries);
        }
        long minActions = replay != null && !replay.isBlank() ? 0 : Long.getLong(ACTIONS_PROPERTY, 0);
        long actions = 0;
        long nextProgress = PROGRESS_EVERY_ACTIONS;
        int i = 0;
        for (; minActions > 0 ? actions < minActions : i < tries; i++) {
            long seed = replay != null && !replay.isBlank() ? baseSeed : Gen.mix(baseSeed + i);
            List<A> sequence = generator.apply(new Gen(seed));
            actions += sequence.size();
            Throwable failure = runOnce(sequence);
            if (failure != null) {
                throw shrunkFailure(seed, sequence, failure);
            }
            if (minActions > 0 && actions >= nextProgress) {
                nextProgress += PROGRESS_EVERY_ACTIONS;
                System.out.println("property " + name + ": " + actions + " actions in " + (i + 1) + " sequences, "
                        + (System.nanoTime() - started) / 1_000_000_000 + " s (base seed " + baseSeed + ")");
            }
        }
        Summary summary = new Summary(name, i, actions, (System.nanoTime() - started) / 1_000_000, baseSeed);
        System.out.println(summary);
        return summary;
    }

    private Throwable runOnce(List<A> sequence) {
        try {
            property.accept(sequence);
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private AssertionError shrunkFailure(long seed, List<A> original, Throwable failure) {
        Class<?> kind = failure.getClass();
        Throwable[] lastFailure = {failure};
        Shrinker.Shrunk<A> shrunk = Shrinker.shrink(original, candidate -> {
            Throwable t = runOnce(candidate);
            if (t != null && t.getClass() == kind) {
                lastFailure[0] = t;
                return true;
            }
            return false;
        }, simpler, SHRINK_BUDGET);
        // Run the minimal sequence once more so the reported failure is its own.
        Throwable minimalFailure = Objects.requireNonNullElse(runOnce(shrunk.actions()), lastFailure[0]);
        StringBuilder message = new StringBuilder();
        message.append(name).append(" failed for seed ").append(seed)
                .append("\n  replay with: -D").append(SEED_PROPERTY).append('=').append(seed)
                .append(System.getProperty(MAX_LENGTH_PROPERTY) == null ? "" : " -D" + MAX_LENGTH_PROPERTY + '=' + System.getProperty(MAX_LENGTH_PROPERTY).trim())
                .append("\n  original sequence: ").append(original.size()).append(" actions; failure: ").append(failure)
                .append("\n  minimal sequence (").append(shrunk.actions().size()).append(" actions, ")
                .append(shrunk.attempts()).append(" shrink attempts):");
        for (int i = 0; i < shrunk.actions().size(); i++) {
            message.append("\n    ").append(i).append(": ").append(shrunk.actions().get(i));
        }
        message.append("\n  minimal failure: ").append(minimalFailure);
        System.out.println(message);
        return new AssertionError(message.toString(), minimalFailure);
    }

    /** What a passing run covered. */
    public record Summary(String property, int sequences, long actions, long millis, long baseSeed) {
        @Override
        public String toString() {
            return "property " + property + ": " + sequences + " sequences, " + actions + " actions, "
                    + millis + " ms (base seed " + baseSeed + ")";
        }
    }
}
