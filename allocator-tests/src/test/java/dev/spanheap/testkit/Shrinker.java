package dev.spanheap.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Shrinks a failing sequence of actions to a small one that still fails, so that a failure reads
 * as a handful of steps instead of eighty.
 *
 * <p>Two moves, repeated until neither helps or the attempt budget is spent: (1) delete a block of
 * consecutive actions, trying blocks of half the sequence, then a quarter, down to single
 * actions (the "delta debugging" idea); (2) replace one action by a simpler one offered by the
 * caller (a smaller size, a plain alignment, the same thread instead of a hand-off). Every
 * candidate is run from scratch on a fresh heap; actions must therefore be plain data whose
 * meaning does not depend on what was deleted before them (choices such as "which live
 * allocation" are stored as numbers and resolved when the action runs).
 */
public final class Shrinker {

    private Shrinker() {
    }

    /**
     * @param failing    a sequence for which {@code stillFails} is true
     * @param stillFails runs a candidate and says whether it fails the same way
     * @param simpler    simpler replacements for one action (may be empty)
     * @param budget     most candidates to run
     * @return the smallest failing sequence found, and how many candidates were run
     */
    public static <A> Shrunk<A> shrink(List<A> failing, Predicate<List<A>> stillFails,
                                      Function<A, List<A>> simpler, int budget) {
        List<A> best = List.copyOf(failing);
        int attempts = 0;
        boolean progress = true;
        while (progress && attempts < budget) {
            progress = false;
            for (int block = Math.max(1, best.size() / 2); block >= 1 && attempts < budget; block /= 2) {
                int start = 0;
                while (start < best.size() && attempts < budget) {
                    List<A> candidate = new ArrayList<>(best.subList(0, start));
                    candidate.addAll(best.subList(Math.min(best.size(), start + block), best.size()));
                    attempts++;
                    if (!candidate.isEmpty() && stillFails.test(candidate)) {
                        best = List.copyOf(candidate);
                        progress = true;
                    } else {
                        start += block;
                    }
                }
            }
            for (int i = 0; i < best.size() && attempts < budget; i++) {
                for (A replacement : simpler.apply(best.get(i))) {
                    if (attempts >= budget) {
                        break;
                    }
                    List<A> candidate = new ArrayList<>(best);
                    candidate.set(i, replacement);
                    attempts++;
                    if (stillFails.test(candidate)) {
                        best = List.copyOf(candidate);
                        progress = true;
                        break;
                    }
                }
            }
        }
        return new Shrunk<>(best, attempts);
    }

    /** The result of shrinking: the sequence and the number of candidates run to find it. */
    public record Shrunk<A>(List<A> actions, int attempts) {
    }
}
