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
 * @param attentionSplits work-groups per attention head, each over a run of the positions
 */
public record LaunchGeometry(int rowGroup, int attentionGroup, int singleGroup, int elementGroup, int attentionSplits) {
    /** System property that sets {@link #rowGroup} (for tuning a device). */
    public static final String ROW_GROUP = "gale.tornado.rowGroup";
    /** System property that sets {@link #attentionGroup}. */
    public static final String ATTENTION_GROUP = "gale.tornado.attentionGroup";
    /** System property that sets {@link #attentionSplits}. */
    public static final String ATTENTION_SPLITS = "gale.tornado.attentionSplits";
    private static final int MAX_SPLITS = 256;

    /**
     * GPUs: 128 threads per row (four warps / two wavefronts, enough loads in flight to stream a row of a few
     * thousand values), 256 for the one-group kernels, and each attention head split over
     * {@value #GPU_ATTENTION_SPLITS} work-groups ({@link #attentionSplits}). CPU devices (e.g. PoCL) run a group's
     * threads as a loop, so small groups there and one group per head. {@code -Dgale.tornado.rowGroup},
     * {@code -Dgale.tornado.attentionGroup} and {@code -Dgale.tornado.attentionSplits} override those.
     */
    public static LaunchGeometry forDevice(boolean gpu, long maxGroup) {
        LaunchGeometry g = gpu ? new LaunchGeometry(128, 128, 256, 128, GPU_ATTENTION_SPLITS)
                : new LaunchGeometry(16, 16, 16, 16, 1);
        int cap = Integer.highestOneBit((int) Math.min(GroupReductions.MAX_GROUP, Math.max(1, maxGroup)));
        int rows = chosen(ROW_GROUP, g.rowGroup, cap);
        int attention = chosen(ATTENTION_GROUP, g.attentionGroup, cap);
        return new LaunchGeometry(Math.min(rows, cap), Math.min(attention, cap), Math.min(g.singleGroup, cap),
                Math.min(g.elementGroup, cap), attentionSplits(g.attentionSplits));
    }

    /** This geometry with {@code splits} work-groups per attention head. */
    public LaunchGeometry withAttentionSplits(int splits) {
        return new LaunchGeometry(rowGroup, attentionGroup, singleGroup, elementGroup, splits);
    }

    /** The group size a property asks for, or {@code fallback}; a power of two from 1 to {@code cap}. */
    static int chosen(String property, int fallback, int cap) {
        return intProperty(property, fallback, n -> n <= cap && Integer.bitCount(n) == 1,
                "a power of two from 1 to " + cap + " on this device");
    }

    /**
     * Work-groups per head of the attention on GPUs: each walks a run of the positions, writing its unnormalized
     * value sum, maximum and total, and one more kernel per layer merges them. Measured on an NVIDIA H200 (PTX, CUDA
     * graph, synthesized Llama-3.2-1B Q8_0, DecodeBenchmark): 256 tokens after a 4096-token prompt 102.7 / 101.3 tok/s
     * with one group per head, 235.5 with 4, 286.8 with 8, 302.5 / 308.2 with 16, 319.3 with 32; after a 16-token
     * prompt 336.3 → 394.4 (16); after 1024 tokens 224.1 → 369.2 (16); every golden passes with 16 there.
     */
    static final int GPU_ATTENTION_SPLITS = 16;

    /**
     * The work-groups per attention head that {@code -Dgale.tornado.attentionSplits=N} asks for, or
     * {@code fallback}. (PoCL 3.1 computes the split attention wrongly with groups of 32 threads or more, which
     * Oclgrind does not; right with the CPU devices' 16.)
     */
    static int attentionSplits(int fallback) {
        return intProperty(ATTENTION_SPLITS, fallback, n -> n <= MAX_SPLITS, "a whole number from 1 to " + MAX_SPLITS);
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
