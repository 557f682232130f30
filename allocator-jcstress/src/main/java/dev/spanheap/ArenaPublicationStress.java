package dev.spanheap;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * Arena publication (docs/design.md: {@code arenas[]} and {@code arenaCount} are written under the
 * range's grow lock and read without it, by {@link AddressRange#contains} and the lookups that
 * follow). One thread maps the range's second arena; another reads, with no lock and no hand-off,
 * the arena count, then the new arena's table entry and whether an address in it is inside the
 * range. The claim: a reader that sees the count include the arena sees the arena itself (the
 * entry is stored before the volatile count), and {@code contains} agrees with the count.
 */
@JCStressTest
@Outcome(id = "1, .*, 0", expect = ACCEPTABLE, desc = "the new arena is not seen yet (count 1, address outside)")
@Outcome(id = "1, .*, 1", expect = ACCEPTABLE, desc = "count read before the mapping, contains() after it")
@Outcome(id = "2, 1, 1", expect = ACCEPTABLE, desc = "the new arena is seen, its table entry with it")
@Outcome(id = "2, 0, .*", expect = FORBIDDEN, desc = "the count includes the new arena but its table entry is still null")
@Outcome(id = "2, 1, 0", expect = FORBIDDEN, desc = "contains() went back to the old count after the new one was seen")
@State
public class ArenaPublicationStress {

    private final AddressRange range = SharedFixtures.rangeWithOneArena(Long.MAX_VALUE);

    @Actor
    public void mapper() {
        range.mapArena(range.pageHeaps()[0], "jcstress", 0);
    }

    @Actor
    public void reader(III_Result r) {
        int count = range.arenaCount;
        r.r1 = count;
        r.r2 = count >= 2 ? (range.arenas[1] != null ? 1 : 0) : -1;
        r.r3 = range.contains(range.base + HeapArena.BYTES + 8) ? 1 : 0;
    }

    @Arbiter
    public void unmap() {
        range.unmapAll();
    }
}
