package dev.spanheap;

import java.util.Locale;

/**
 * The holder of the process-wide {@link SpanHeap} behind {@link SpanHeap#shared()}: built on first
 * use from system properties, and never closed, since any library in the process may hold memory
 * from it.
 *
 * <p>The properties, read once when the heap is first asked for:
 * <ul>
 * <li>{@value #MAX_HEAP_BYTES}: the hard limit on memory held from the OS, in bytes, optionally with a
 *     {@code k}, {@code m} or {@code g} suffix (powers of 1024), {@code 0} for none; when absent, the
 *     default of every heap ({@link DefaultHeapLimit}: a share of the container's limit, if any). The
 *     property also sets the default of heaps built with {@link SpanHeapConfig#builder()}.</li>
 * <li>{@value #CHECKED}: {@code true} or {@code false} (the default): checked mode.</li>
 * <li>{@value #SCAVENGER}: {@code true} (the default) or {@code false}: the background scavenger.</li>
 * <li>{@value #HUGE_PAGES}: {@code true} or {@code false}: whether the heap asks for transparent
 *     huge pages ({@link SpanHeapConfig.Builder#hugePages}), {@code true} when absent. It too sets
 *     the default of built heaps.</li>
 * <li>{@value #HUGE_PAGES_FROM}: the held bytes from which they ask, with an optional {@code k},
 *     {@code m} or {@code g} suffix, {@code 0} from the first arena; when absent,
 *     {@link SpanHeapConfig#DEFAULT_HUGE_PAGES_FROM_BYTES}. It too sets the default of built heaps.</li>
 * <li>{@value #PROFILE_SAMPLE_BYTES}: the heap profile's mean bytes between samples, with an optional
 *     {@code k}, {@code m} or {@code g} suffix, {@code 0} for off; when absent,
 *     {@link SpanHeapConfig#DEFAULT_PROFILE_SAMPLE_BYTES}. Like the limit, it also sets the default
 *     of heaps built with {@link SpanHeapConfig#builder()} (read when each configuration is built).</li>
 * <li>{@value #SHARDS}: the number of shards, from 1 to {@link SpanHeapConfig#MAX_SHARDS}; when
 *     absent, {@link SpanHeapConfig#defaultShards()}. It too sets the default of built heaps.</li>
 * </ul>
 * A value that does not parse throws {@link IllegalArgumentException} naming the property and the
 * value, and no heap is created, so that a corrected property takes effect on the next call.
 */
final class SharedHeap {

    static final String MAX_HEAP_BYTES = "spanheap.maxHeapBytes";
    static final String CHECKED = "spanheap.checked";
    static final String SCAVENGER = "spanheap.scavenger";
    static final String HUGE_PAGES = "spanheap.hugePages";
    static final String HUGE_PAGES_FROM = "spanheap.hugePagesFrom";
    static final String PROFILE_SAMPLE_BYTES = "spanheap.profileSampleBytes";
    static final String SHARDS = "spanheap.shards";
    static final String PAGE_CACHE_BYTES = "spanheap.pageCacheBytes";

    /** The heap once built; written under the class lock, read without it (safe publication through volatile). */
    private static volatile SpanHeap instance;

    private SharedHeap() {
    }

    /** The shared heap, built from the system properties on the first call. */
    static SpanHeap get() {
        SpanHeap heap = instance;
        if (heap != null) {
            return heap;
        }
        synchronized (SharedHeap.class) {
            if (instance == null) {
                instance = SpanHeap.create(configFrom(System::getProperty));
            }
            return instance;
        }
    }

    /** Whether {@code heap} is the shared heap; {@link SpanHeap#close()} refuses to close that one. */
    static boolean isShared(SpanHeap heap) {
        return heap == instance;
    }

    /** The configuration the given properties describe (a function from property name to value or null). */
    static SpanHeapConfig configFrom(java.util.function.UnaryOperator<String> properties) {
        SpanHeapConfig.Builder builder = SpanHeapConfig.builder().name("spanheap-shared");
        String max = properties.apply(MAX_HEAP_BYTES);
        if (max != null) {
            builder.maxHeapBytesFrom(parseLimit(MAX_HEAP_BYTES, max), HeapLimitSource.PROPERTY);
        }
        String checked = properties.apply(CHECKED);
        if (checked != null) {
            builder.checked(parseBoolean(CHECKED, checked));
        }
        String scavenger = properties.apply(SCAVENGER);
        if (scavenger != null) {
            builder.scavengerEnabled(parseBoolean(SCAVENGER, scavenger));
        }
        String hugePages = properties.apply(HUGE_PAGES);
        if (hugePages != null) {
            builder.hugePages(hugePagesOn(hugePages));
        }
        String hugePagesFrom = properties.apply(HUGE_PAGES_FROM);
        if (hugePagesFrom != null) {
            builder.hugePagesFrom(hugePagesFromBytes(hugePagesFrom));
        }
        String shards = properties.apply(SHARDS);
        if (shards != null) {
            builder.shards(shardsFrom(shards));
        }
        String sampleBytes = properties.apply(PROFILE_SAMPLE_BYTES);
        if (sampleBytes != null) {
            builder.profileSampleBytes(profileSampleBytesFrom(sampleBytes));
        }
        return builder.build();
    }

    static long parseBytes(String property, String value) {
        String text = value.trim().toLowerCase(Locale.ROOT);
        int shift = 0;
        if (!text.isEmpty()) {
            switch (text.charAt(text.length() - 1)) {
                case 'k' -> shift = 10;
                case 'm' -> shift = 20;
                case 'g' -> shift = 30;
                default -> shift = 0;
            }
        }
        String digits = shift == 0 ? text : text.substring(0, text.length() - 1);
        long number;
        try {
            number = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(property + " must be a positive number of bytes with an optional k, m or g"
                    + " suffix, was '" + value + "'");
        }
        if (number <= 0 || number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException(property + " must be between 1 and " + (Long.MAX_VALUE >> shift)
                    + (shift == 0 ? "" : " with that suffix") + ", was '" + value + "'");
        }
        return number << shift;
    }

    /** Like {@link #parseBytes}, but {@code 0} (with or without a suffix) means no limit: {@code Long.MAX_VALUE}. */
    static long parseLimit(String property, String value) {
        String text = value.trim().toLowerCase(java.util.Locale.ROOT);
        if (text.matches("0+[kmg]?")) {
            return Long.MAX_VALUE;
        }
        return parseBytes(property, value);
    }

    /** The profile's sample interval the {@value #PROFILE_SAMPLE_BYTES} property gives ({@code 0} for off), or the default when absent. */
    static long profileSampleBytesFrom(String value) {
        return bytesOrZero(PROFILE_SAMPLE_BYTES, value, SpanHeapConfig.DEFAULT_PROFILE_SAMPLE_BYTES);
    }

    /** Like {@link #parseBytes}, but {@code 0} (with or without a suffix) is allowed, and {@code fallback} stands for an absent value. */
    private static long bytesOrZero(String property, String value, long fallback) {
        if (value == null) {
            return fallback;
        }
        if (value.trim().toLowerCase(Locale.ROOT).matches("0+[kmg]?")) {
            return 0;
        }
        return parseBytes(property, value);
    }

    /** The shard count the {@value #SHARDS} property gives, or the default when absent. */
    static int shardsFrom(String value) {
        if (value == null) {
            return SpanHeapConfig.defaultShards();
        }
        try {
            int shards = Integer.parseInt(value.trim());
            if (shards >= 1 && shards <= SpanHeapConfig.MAX_SHARDS) {
                return shards;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(SHARDS + " must be a whole number from 1 to " + SpanHeapConfig.MAX_SHARDS
                + ", was '" + value + "'");
    }

    /** Whether heaps ask for huge pages by the {@value #HUGE_PAGES} property, or by default ({@code true}) when absent. */
    static boolean hugePagesOn(String value) {
        return value == null || parseBoolean(HUGE_PAGES, value);
    }

    /** The held bytes from which heaps ask for huge pages by the {@value #HUGE_PAGES_FROM} property ({@code 0} from the first arena), or the default when absent. */
    static long hugePagesFromBytes(String value) {
        return bytesOrZero(HUGE_PAGES_FROM, value, SpanHeapConfig.DEFAULT_HUGE_PAGES_FROM_BYTES);
    }

    /** The page-cache bytes the {@value #PAGE_CACHE_BYTES} property gives (0 turns page caches off), or the default when absent. */
    static long pageCacheBytesFrom(String value) {
        long bytes = bytesOrZero(PAGE_CACHE_BYTES, value, SpanHeapConfig.DEFAULT_PAGE_CACHE_BYTES);
        if (bytes > SpanHeapConfig.MAX_PAGE_CACHE_BYTES) {
            throw new IllegalArgumentException(PAGE_CACHE_BYTES + " must be at most " + SpanHeapConfig.MAX_PAGE_CACHE_BYTES + ", was '" + value + "'");
        }
        return bytes;
    }

    static boolean parseBoolean(String property, String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(property + " must be true or false, was '" + value + "'");
        };
    }
}
