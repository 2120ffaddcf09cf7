package dev.gale.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/** The vector Q8_0 quantization of activations gives exactly the scalar (ggml's) quants and scales. */
@EnabledIf("wideVectors")
class ActivationRowsTest {
    static boolean wideVectors() {
        return Simd.WIDE_VECTORS;
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
