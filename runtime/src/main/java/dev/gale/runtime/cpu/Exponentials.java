package dev.gale.runtime.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The exponentials of a softmax, computed the same way whether the JIT has compiled the caller or not. The Vector
 * API's {@code EXP} is not: compiled, it calls the platform's vector math library; interpreted, {@code Math.exp}
 * per lane; the two differ in the last bit now and then, and a reduction's order differs between the two as well.
 * A sequence's logits then depended on when the JIT got to the attention loop, so a request in a batch could
 * produce other logits than alone. Here exp is Cephes' single-precision polynomial (within 2 ulp), built of
 * additions, multiplications and fused multiply-adds only, which are exact IEEE operations in every tier; the sum
 * adds per-lane partial sums in a fixed order. The vector form is written out in each loop rather than called: a
 * helper taking and returning a vector that the JIT does not inline allocates its vectors on every call (in one test
 * JVM in a dozen, decode then kept allocating).
 */
public final class Exponentials {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 in two parts, the first exact in a few bits, so that x − n ln 2 is exact for |n| ≤ 127. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 × 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUNDER = 12582912f;
    /** Below this, e^x is under the smallest normal float: taken as 0. */
    private static final float MIN_ARGUMENT = -87.33654f;
    /** Above this, e^x overflows: clamped (a softmax's arguments are ≤ 0). */
    private static final float MAX_ARGUMENT = 88.37626f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private Exponentials() {}

    /** Floats of scratch {@link #expShifted} needs: the lanes of a vector. */
    public static final int SCRATCH = F.length();

    /**
     * {@code dst[i] = exp((src[i] - shift) * scale)} for i in {@code [from, to)} ({@code dst} may be {@code src});
     * returns their sum. {@code lanes} is scratch of at least {@link #SCRATCH} floats.
     */
    public static double expShifted(float[] src, int from, int to, float shift, float scale, float[] dst,
            float[] lanes) {
        int i = from;
        double total = 0;
        int bound = from + F.loopBound(to - from);
        if (i < bound) {
            FloatVector sum = FloatVector.zero(F);
            for (; i < bound; i += F.length()) {
                // exp(float)'s steps in every lane, written out here (see the class comment)
                FloatVector arg = FloatVector.fromArray(F, src, i).sub(shift).mul(scale);
                VectorMask<Float> under = arg.compare(VectorOperators.LT, MIN_ARGUMENT);
                FloatVector x = arg.max(MIN_ARGUMENT).min(MAX_ARGUMENT);
                FloatVector n = x.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
                FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), x);
                r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
                FloatVector p = r.fma(P0, P1).fma(r, FloatVector.broadcast(F, P2)).fma(r, FloatVector.broadcast(F, P3))
                        .fma(r, FloatVector.broadcast(F, P4)).fma(r, FloatVector.broadcast(F, P5));
                p = p.mul(r).mul(r).add(r).add(1f);
                IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127)
                        .lanewise(VectorOperators.LSHL, 23);
                FloatVector e = p.mul(bits.reinterpretAsFloats()).blend(0f, under);
                e.intoArray(dst, i);
                sum = sum.add(e);
            }
            sum.intoArray(lanes, 0);
            for (int l = 0; l < F.length(); l++) {
                total += lanes[l];
            }
        }
        for (; i < to; i++) {
            float e = exp((src[i] - shift) * scale);
            dst[i] = e;
            total += e;
        }
        return total;
    }

    /**
     * {@code out[o + i] = silu(gate[g + i]) × up[u + i]} for i in {@code [0, n)}: the gated activation of a SiLU
     * feed-forward block, silu(x) = x / (1 + e^−x) with this class's e^x, the same value in every lane and in the scalar
     * tail, compiled or not.
     */
    public static void siluTimes(float[] gate, int g, float[] up, int u, float[] out, int o, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector g0 = FloatVector.fromArray(F, gate, g + i);
            // exp(-g0) by exp(float)'s steps in every lane, written out here (see the class comment)
            FloatVector arg = g0.neg();
            VectorMask<Float> under = arg.compare(VectorOperators.LT, MIN_ARGUMENT);
            FloatVector x = arg.max(MIN_ARGUMENT).min(MAX_ARGUMENT);
            FloatVector k = x.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
            FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
            r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
            FloatVector p = r.fma(P0, P1).fma(r, FloatVector.broadcast(F, P2)).fma(r, FloatVector.broadcast(F, P3))
                    .fma(r, FloatVector.broadcast(F, P4)).fma(r, FloatVector.broadcast(F, P5));
            p = p.mul(r).mul(r).add(r).add(1f);
            IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.mul(bits.reinterpretAsFloats()).blend(0f, under);
            g0.div(e.add(1f)).mul(FloatVector.fromArray(F, up, u + i)).intoArray(out, o + i);
        }
        for (; i < n; i++) {
            float x = gate[g + i];
            out[o + i] = x / (1f + exp(-x)) * up[u + i];
        }
    }

    /** e^x by the same polynomial, one value. */
    public static float exp(float x) {
        if (x < MIN_ARGUMENT) {
            return 0f;
        }
        x = Math.min(x, MAX_ARGUMENT);
        float n = (x * LOG2E + ROUNDER) - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P0, P1), r, P2), r, P3), r, P4), r, P5);
        p = p * r * r + r + 1f;
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }
}
