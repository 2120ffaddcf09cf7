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
}
