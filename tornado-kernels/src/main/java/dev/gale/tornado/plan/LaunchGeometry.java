package dev.gale.tornado.plan;

import dev.gale.tornado.kernels.GroupReductions;
import java.util.function.IntPredicate;

/**
 * Work-group sizes per kind of kernel for one device. Powers of two, at most {@link GroupReductions#MAX_GROUP}
 * and the device's limit.
 *
 * @param rowGroup       threads per output row of a matrix-vector product
 * @param attentionGroup threads per attention head
 * @param singleGroup    threads of the kernels that run as one work-group (argmax, gemma's post-norms)
 * @param elementGroup   threads per group of element-wise kernels
 */
public record LaunchGeometry(int rowGroup, int attentionGroup, int singleGroup, int elementGroup) {
    /** System property that sets {@link #rowGroup} (for tuning a device). */
    public static final String ROW_GROUP = "gale.tornado.rowGroup";
    /** System property that sets {@link #attentionGroup}. */
    public static final String ATTENTION_GROUP = "gale.tornado.attentionGroup";
    /** System property that sets {@link #attentionSplits}. */
    public static final String ATTENTION_SPLITS = "gale.tornado.attentionSplits";
    private static final int MAX_SPLITS = 256;

    /**
     * GPUs: 128 threads per row (four warps / two wavefronts, enough loads in flight to stream a row of a few
     * thousand values) and 256 for the one-group kernels. CPU devices (e.g. PoCL) run a group's threads as a loop,
     * so small groups there. {@code -Dgale.tornado.rowGroup} and {@code -Dgale.tornado.attentionGroup} override the
     * first two.
     */
    public static LaunchGeometry forDevice(boolean gpu, long maxGroup) {
        LaunchGeometry g = gpu ? new LaunchGeometry(128, 128, 256, 128) : new LaunchGeometry(16, 16, 16, 16);
        int cap = Integer.highestOneBit((int) Math.min(GroupReductions.MAX_GROUP, Math.max(1, maxGroup)));
        int rows = chosen(ROW_GROUP, g.rowGroup, cap);
        int attention = chosen(ATTENTION_GROUP, g.attentionGroup, cap);
        return new LaunchGeometry(Math.min(rows, cap), Math.min(attention, cap), Math.min(g.singleGroup, cap),
                Math.min(g.elementGroup, cap));
    }

    /** The group size a property asks for, or {@code fallback}; a power of two from 1 to {@code cap}. */
    static int chosen(String property, int fallback, int cap) {
        return intProperty(property, fallback, n -> n <= cap && Integer.bitCount(n) == 1,
                "a power of two from 1 to " + cap + " on this device");
    }

    /**
     * Work-groups per head of the attention: 1 (one group per head, the configuration measured on an H200) unless
     * {@code -Dgale.tornado.attentionSplits=N} asks for N, which spreads each head's positions over N groups and
     * merges their results in one more kernel per layer: for long contexts, where one group per head walks
     * thousands of positions alone. Experimental: right under Oclgrind and on PoCL with 16-thread groups, not yet
     * measured on a GPU (PoCL 3.1 gets it wrong with groups of 32 threads or more, which Oclgrind does not).
     */
    public static int attentionSplits() {
        return intProperty(ATTENTION_SPLITS, 1, n -> n <= MAX_SPLITS, "a whole number from 1 to " + MAX_SPLITS);
    }

    /** A positive whole-number system property that {@code valid} accepts, or {@code fallback} when unset. */
    private static int intProperty(String property, int fallback, IntPredicate valid, String what) {
        String value = System.getProperty(property);
        if (value == null) {
            return fallback;
        }
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 1 || !valid.test(n)) {
            throw new IllegalArgumentException("-D" + property + " must be " + what + ", not '" + value + "'");
        }
        return n;
    }
}
