package dev.spanheap.bench;

import java.util.SplittableRandom;

/**
 * A realistic mix of request sizes, drawn once from a fixed seed into a table the workloads cycle
 * through (so drawing costs one array load). The shape follows what allocation traces of servers
 * commonly show: most requests small, a long thin tail of big ones.
 *
 * <pre>
 *   share   sizes
 *   50 %    8 .. 64 B
 *   25 %    65 .. 256 B
 *   15 %    257 .. 1 KiB
 *    7 %    1 KiB .. 8 KiB
 *    2.5 %  8 KiB .. 32 KiB
 *    0.5 %  32 KiB .. 256 KiB
 * </pre>
 */
final class SizeDistribution {

    static final int TABLE_SIZE = 1 << 16;
    static final int TABLE_MASK = TABLE_SIZE - 1;

    private static final double[] CUMULATIVE_SHARE = {0.50, 0.75, 0.90, 0.97, 0.995, 1.0};
    private static final int[] LOW = {8, 65, 257, 1025, 8193, 32769};
    private static final int[] HIGH = {64, 256, 1024, 8192, 32768, 262144};

    private SizeDistribution() {
    }

    /** {@link #TABLE_SIZE} sizes drawn from the mix with {@code seed}. */
    static int[] table(long seed) {
        return draw(seed, CUMULATIVE_SHARE, LOW, HIGH);
    }

    private static final double[] CUMULATIVE_SHARE_TO_2MIB = {0.50, 0.70, 0.83, 0.91, 0.95, 0.99, 1.0};
    private static final int[] LOW_TO_2MIB = {8, 65, 257, 1025, 8193, 32769, 262145};
    private static final int[] HIGH_TO_2MIB = {64, 256, 1024, 8192, 32768, 262144, 2 << 20};

    /**
     * {@link #TABLE_SIZE} sizes from a mix that reaches 2 MiB, with 5 % of requests above 32 KiB
     * (the scaling issue's workload):
     * <pre>
     *   share   sizes
     *   50 %    8 .. 64 B
     *   20 %    65 .. 256 B
     *   13 %    257 .. 1 KiB
     *    8 %    1 KiB .. 8 KiB
     *    4 %    8 KiB .. 32 KiB
     *    4 %    32 KiB .. 256 KiB
     *    1 %    256 KiB .. 2 MiB
     * </pre>
     */
    static int[] tableTo2MiB(long seed) {
        return draw(seed, CUMULATIVE_SHARE_TO_2MIB, LOW_TO_2MIB, HIGH_TO_2MIB);
    }

    private static int[] draw(long seed, double[] cumulativeShare, int[] low, int[] high) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] sizes = new int[TABLE_SIZE];
        for (int i = 0; i < sizes.length; i++) {
            double u = random.nextDouble();
            int bucket = 0;
            while (u > cumulativeShare[bucket]) {
                bucket++;
            }
            sizes[i] = random.nextInt(low[bucket], high[bucket] + 1);
        }
        return sizes;
    }

    /** {@link #TABLE_SIZE} uniform sizes in [{@code low}, {@code high}]. */
    static int[] uniform(long seed, int low, int high) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] sizes = new int[TABLE_SIZE];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = random.nextInt(low, high + 1);
        }
        return sizes;
    }

    /** {@link #TABLE_SIZE} indexes uniform in [0, {@code bound}). */
    static int[] indexes(long seed, int bound) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] indexes = new int[TABLE_SIZE];
        for (int i = 0; i < indexes.length; i++) {
            indexes[i] = random.nextInt(bound);
        }
        return indexes;
    }
}
