package dev.gale.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gale.model.gguf.GgmlType;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The vector Q8_0 quantization of activations gives exactly the scalar (ggml's) quants and scales, and the activation
 * tiles of {@link BlockGemm} hold each token's values where the layout says.
 */
@EnabledIf("wideVectors")
class ActivationRowsTest {
    private static final WorkerPool POOL = new WorkerPool(2);

    static boolean wideVectors() {
        return Simd.WIDE_VECTORS;
    }

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    /**
     * {@link ActivationRows#prepareTiles} on one thread and on two workers, over widths that are and are not whole
     * blocks (odd ones too) and batches of one paired tile, whole tiles and a partial last tile, after a larger batch
     * has left other values in the arrays: each element of each token is at its place of the layout, and every
     * padding element and token is 0.
     */
    @Property(tries = 60)
    void tilesHoldEachTokensValues(@ForAll @IntRange(min = 1, max = 600) int width,
                                   @ForAll @IntRange(min = 1, max = 40) int tokens,
                                   @ForAll boolean workers, @ForAll boolean f16) {
        Random rnd = new Random(width * 100L + tokens);
        int w = f16 ? width : (width + 31) / 32 * 32; // the Q8_0 form needs whole blocks
        GgmlType form = f16 ? GgmlType.F16 : GgmlType.Q8_0;
        ActivationRows x = new ActivationRows(48, w);
        x.workers(workers ? POOL : null);
        // a full batch first, so that stale values would show
        for (int i = 0; i < 48 * w; i++) {
            x.values()[i] = (float) rnd.nextGaussian();
        }
        x.set(48);
        x.prepareTiles(form);
        for (int i = 0; i < tokens * w; i++) {
            x.values()[i] = (float) rnd.nextGaussian();
        }
        x.set(tokens);
        x.prepareTiles(form);
        float[] v;
        if (f16) {
            v = x.rounded(GgmlType.F16);
        } else {
            x.prepareQ8_0Values();
            v = x.q8Values;
        }
        int bw = x.blockWidth();
        int a = Simd.ALIGNED_FLOATS;
        boolean paired = BlockGemm.onePairedTile(tokens);
        int tiles = (tokens + 15) / 16;
        for (int t = 0; t < tiles * 16; t++) {
            for (int k = 0; k < bw; k++) {
                int l = t % 16;
                int at = paired ? a + (k & ~1) * 16 + l / 8 * 16 + l % 8 * 2 + (k & 1) : a + ((t / 16) * bw + k) * 16 + l;
                float expected = t < tokens && k < w ? v[t * w + k] : 0f;
                assertEquals(expected, x.tiles[at], "token " + t + " element " + k);
            }
        }
    }

    /** Quantizes block 0 of {@code block} both ways and compares. */
    private static void assertSameQuantization(float[] block) {
        ActivationRows x = new ActivationRows(1, 32);
        System.arraycopy(block, 0, x.values(), 0, 32);
        x.set(1);
        x.prepareQ8_0();
        x.quantizeQ8_0Block(0, 0);
        short[] scalar = Arrays.copyOf(x.q8, 32);
        float scale = x.q8Scale[0];
        Arrays.fill(x.q8, (short) 99);
        x.quantizeQ8_0BlockInVectors(0, 0);
        assertArrayEquals(scalar, Arrays.copyOf(x.q8, 32), Arrays.toString(block));
        assertEquals(Float.floatToIntBits(scale), Float.floatToIntBits(x.q8Scale[0]));
    }

    @Test
    void tiesRoundAwayFromZero() {
        // amax 127 gives d = 1: exact halves are ties, and 0.49999997 sums to 1 when 0.5 is added in float
        float[] b = new float[32];
        float[] specials = {127f, -127f, 0.5f, -0.5f, 1.5f, -2.5f, 126.5f, 0.49999997f, -0.49999997f, 2.4999998f,
            0f, -0f, 1e-30f, 63.5f, -63.5f, 100.49999f};
        for (int i = 0; i < 32; i++) {
            b[i] = specials[i % specials.length];
        }
        assertSameQuantization(b);
        assertSameQuantization(new float[32]);
    }

    @Property(tries = 300)
    void randomBlocks(@ForAll @IntRange(min = 0, max = 1_000_000) int seed,
                      @ForAll @IntRange(min = -20, max = 13) int exponent) {
        Random rnd = new Random(seed);
        float magnitude = Math.scalb(1f + rnd.nextFloat(), exponent);
        float[] b = new float[32];
        for (int i = 0; i < 32; i++) {
            b[i] = (float) rnd.nextGaussian() * magnitude;
            if (rnd.nextInt(8) == 0) {
                // a value on a tie of the block's rounding, once d is known: (n + 1/2) * d
                b[i] = (rnd.nextInt(250) - 125 + 0.5f) * magnitude / 127f;
            }
        }
        assertSameQuantization(b);
    }
}
