package dev.gale.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ExponentialsTest {

    /** Within 2 ulp of the correctly rounded e^x over the range a softmax sees, and 0 below the normal floats. */
    @Test
    void isAccurateOverASoftmaxsRange() {
        float worst = 0;
        for (float x = -87f; x <= 88f; x += 0.00731f) {
            double exact = Math.exp(x);
            float e = Exponentials.exp(x);
            worst = Math.max(worst, (float) (Math.abs(e - exact) / Math.ulp((float) exact)));
        }
        assertTrue(worst <= 2f, "worst error " + worst + " ulp");
        assertEquals(0f, Exponentials.exp(-90f));
        assertEquals(0f, Exponentials.exp(Float.NEGATIVE_INFINITY));
        assertEquals(1f, Exponentials.exp(0f));
    }

    /**
     * The vector loop gives each element bit for bit what the scalar form gives, including the elements after the
     * last whole vector and those under the normal floats; the sum is their sum.
     */
    @Test
    void vectorAndScalarFormsAgreeBitForBit() {
        Random rnd = new Random(3);
        float[] src = new float[1000];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) rnd.nextGaussian() * 20f;
        }
        src[17] = Float.NEGATIVE_INFINITY;
        src[18] = -200f;
        float[] dst = new float[src.length];
        float[] lanes = new float[Exponentials.SCRATCH];
        double total = Exponentials.expShifted(src, 3, 997, 12.5f, 0.7f, dst, lanes);
        double expected = 0;
        for (int i = 3; i < 997; i++) {
            float e = Exponentials.exp((src[i] - 12.5f) * 0.7f);
            assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(dst[i]), "element " + i);
            expected += e;
        }
        assertEquals(0f, dst[17]);
        assertEquals(0f, dst[0]);
        assertEquals(expected, total, 1e-6 * expected);
    }

    /**
     * The gated SiLU of a feed-forward block: each element, in the vector loop or the tail after it, is bit for bit
     * x / (1 + e^−x) × up with this class's e^x, and within a few ulp of the same formula in double precision (below
     * about −87, where e^−x is clamped, within 1e-35 of it).
     */
    @Test
    void siluTimesIsTheScalarFormInEveryLane() {
        Random rnd = new Random(5);
        int n = 1000;
        float[] gate = new float[n + 7];
        float[] up = new float[n + 3];
        for (int i = 0; i < gate.length; i++) {
            gate[i] = (float) rnd.nextGaussian() * 8f;
        }
        for (int i = 0; i < up.length; i++) {
            up[i] = (float) rnd.nextGaussian();
        }
        gate[7 + 5] = -120f;
        gate[7 + 6] = 120f;
        float[] out = new float[n + 2];
        Exponentials.siluTimes(gate, 7, up, 3, out, 2, n - 9);
        float worst = 0;
        for (int i = 0; i < n - 9; i++) {
            float x = gate[7 + i];
            float expected = x / (1f + Exponentials.exp(-x)) * up[3 + i];
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(out[2 + i]), "element " + i);
            double exact = x / (1 + Math.exp(-x)) * up[3 + i];
            // below about -87, e^-x is clamped: the result is then some 1e-36 where it is smaller still
            worst = Math.max(worst, (float) (Math.max(0, Math.abs(out[2 + i] - exact) - 1e-35) / Math.ulp((float) exact)));
        }
        assertTrue(worst <= 4f, "worst error " + worst + " ulp");
        assertEquals(0f, out[0]);
        assertEquals(0f, out[2 + n - 9]);
        assertEquals(120f * up[3 + 6], out[2 + 6]);
    }
}
