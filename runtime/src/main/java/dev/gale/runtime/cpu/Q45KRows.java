package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.I16;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.tensor.KQuants;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The loops of the Q4_K and Q5_K kernels (layouts in {@link KQuants}), which differ only in Q5_K's fifth bits.
 * Callers pass {@code q5} as a constant, so the JIT compiles a specialised copy into each.
 *
 * <p>Dot products with Q8_K activations follow ggml: per super-block the integer sum of scale × (quant · activation
 * quant) over the 8 sub-blocks, times d and the activation scale, minus dmin × the activation scale × the sum of
 * min × (activation quant sums).
 */
final class Q45KRows {
    static final int QK = KQuants.QK_K;
    static final int Q4_BLOCK_BYTES = 144;
    static final int Q5_BLOCK_BYTES = 176;

    private Q45KRows() {}

    private static int blockBytes(boolean q5) {
        return q5 ? Q5_BLOCK_BYTES : Q4_BLOCK_BYTES;
    }

    static float dot(MemorySegment w, long offset, ActivationRows x, int row, boolean q5) {
        int blocks = x.width() / QK;
        short[] q = x.qk;
        float[] scale = x.qkScale;
        int[] groupSums = x.qkSums;
        int xb = row * blocks;
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) blockBytes(q5) * b;
            long quants = p + (q5 ? 48 : 16);
            int xo = (xb + b) * QK;
            ShortVector high = q5 ? (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p + 16, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0) : null;
            IntVector sum = IntVector.zero(Simd.I);
            int minSum = 0;
            for (int g = 0; g < 4; g++) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, quants + 32L * g, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                ShortVector lo = v.and((short) 15);
                ShortVector hi = v.lanewise(VectorOperators.LSHR, 4);
                if (q5) {
                    lo = lo.or(high.lanewise(VectorOperators.LSHR, 2 * g).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                    hi = hi.or(high.lanewise(VectorOperators.LSHR, 2 * g + 1).and((short) 1).lanewise(VectorOperators.LSHL, 4));
                }
                int sm1 = KQuants.scaleAndMin(w, p + 4, 2 * g);
                int sm2 = KQuants.scaleAndMin(w, p + 4, 2 * g + 1);
                IntVector s1 = Simd.pairSums(lo.mul(ShortVector.fromArray(Simd.S, q, xo + 64 * g)));
                IntVector s2 = Simd.pairSums(hi.mul(ShortVector.fromArray(Simd.S, q, xo + 64 * g + 32)));
                sum = sum.add(s1.mul(sm1 & 0xFF)).add(s2.mul(sm2 & 0xFF));
                int gs = (xb + b) * (QK / 16) + 4 * g;
                minSum += (sm1 >> 8) * (groupSums[gs] + groupSums[gs + 1])
                        + (sm2 >> 8) * (groupSums[gs + 2] + groupSums[gs + 3]);
            }
            float xd = scale[xb + b];
            float d = Float.float16ToFloat(w.get(I16, p)) * xd;
            float dmin = Float.float16ToFloat(w.get(I16, p + 2)) * xd;
            acc = ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
            mins += dmin * minSum;
        }
        return Simd.sum(acc) - mins;
    }

    /** The row's values, computed as {@link KQuants} does (d·scale·q − dmin·min, two roundings). */
    static void toFloats(MemorySegment w, long offset, float[] dst, int dstOffset, int n, boolean q5) {
        int blocks = n / QK;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) blockBytes(q5) * b;
            long quants = p + (q5 ? 48 : 16);
            float d = Float.float16ToFloat(w.get(I16, p));
            float dmin = Float.float16ToFloat(w.get(I16, p + 2));
            for (int g = 0; g < 4; g++) {
                int sm1 = KQuants.scaleAndMin(w, p + 4, 2 * g);
                int sm2 = KQuants.scaleAndMin(w, p + 4, 2 * g + 1);
                float d1 = d * (sm1 & 0xFF);
                float m1 = dmin * (sm1 >> 8);
                float d2 = d * (sm2 & 0xFF);
                float m2 = dmin * (sm2 >> 8);
                for (int h = 0; h < 2; h++) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, quants + 32L * g + 16 * h, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                    IntVector lo = v.and(15);
                    IntVector hi = v.lanewise(VectorOperators.LSHR, 4);
                    if (q5) {
                        IntVector bits = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 16 + 16 * h, LE)
                                .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                        lo = lo.add(bits.lanewise(VectorOperators.LSHR, 2 * g).and(1).lanewise(VectorOperators.LSHL, 4));
                        hi = hi.add(bits.lanewise(VectorOperators.LSHR, 2 * g + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    }
                    int o = dstOffset + b * QK + 64 * g + 16 * h;
                    ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(dst, o);
                    ((FloatVector) hi.convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(dst, o + 32);
                }
            }
        }
    }
}
