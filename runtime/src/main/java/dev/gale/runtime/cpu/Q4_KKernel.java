package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.I16;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.KQuants;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K weights (layout in {@link KQuants}) with Q8_K activations, in ggml's terms: per sub-block of 32 the exact
 * integer sum of quant · activation quant, times d · scale · the activation scale, minus, per super-block,
 * dmin × the activation scale × the sum of min × (the sub-block's activation quant sum). The sums of the 8
 * sub-blocks are added in float (ggml adds them as integers first, so results agree to rounding).
 */
final class Q4_KKernel implements WeightKernel {
    static final Q4_KKernel INSTANCE = new Q4_KKernel();
    static final int QK = KQuants.QK_K;
    static final int BLOCK_BYTES = 144;

    private Q4_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void prepare(ActivationRows x, boolean batched) {
        x.prepareQ8_K();
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int blocks = x.width() / QK;
        short[] q = x.qk;
        float[] scale = x.qkScale;
        int[] groupSums = x.qkSums;
        int xb = row * blocks;
        FloatVector acc = FloatVector.zero(F);
        float mins = 0;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            int xo = (xb + b) * QK;
            long scales = KQuants.packedScales(w, p + 4);
            long mins8 = KQuants.packedMins(w, p + 4);
            float xd = scale[xb + b];
            float d = Float.float16ToFloat(w.get(I16, p)) * xd;
            int minSum = 0;
            for (int g = 0; g < 4; g++) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p + 16 + 32L * g, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                IntVector lo = v.and((short) 15).mul(ShortVector.fromArray(Simd.S, q, xo + 64 * g)).reinterpretAsInts();
                IntVector hi = v.lanewise(VectorOperators.LSHR, 4).mul(ShortVector.fromArray(Simd.S, q, xo + 64 * g + 32))
                        .reinterpretAsInts();
                // pair sums of the 16-bit products (see Simd.pairSums), then times d · the sub-block's scale
                int sc1 = (int) (scales >>> (16 * g)) & 0xFF;
                int sc2 = (int) (scales >>> (16 * g + 8)) & 0xFF;
                int m1 = (int) (mins8 >>> (16 * g)) & 0xFF;
                int m2 = (int) (mins8 >>> (16 * g + 8)) & 0xFF;
                IntVector loPairs = lo.add(lo.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                IntVector hiPairs = hi.add(hi.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                acc = ((FloatVector) loPairs.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * sc1), acc);
                acc = ((FloatVector) hiPairs.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * sc2), acc);
                int gs = (xb + b) * (QK / 16) + 4 * g;
                minSum += m1 * (groupSums[gs] + groupSums[gs + 1]) + m2 * (groupSums[gs + 2] + groupSums[gs + 3]);
            }
            mins += Float.float16ToFloat(w.get(I16, p + 2)) * xd * minSum;
        }
        acc.intoArray(lanes, 0);
        return Simd.sum16(lanes, 0) - mins;
    }

    @Override
    public int panelStride(int n) {
        return n;
    }

    /** The row's values, computed as {@link KQuants} does (d·scale·q − dmin·min, two roundings). */
    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        int blocks = n / QK;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(w.get(I16, p));
            float dmin = Float.float16ToFloat(w.get(I16, p + 2));
            long scales = KQuants.packedScales(w, p + 4);
            long mins = KQuants.packedMins(w, p + 4);
            for (int g = 0; g < 4; g++) {
                float d1 = d * ((int) (scales >>> (16 * g)) & 0xFF);
                float m1 = dmin * ((int) (mins >>> (16 * g)) & 0xFF);
                float d2 = d * ((int) (scales >>> (16 * g + 8)) & 0xFF);
                float m2 = dmin * ((int) (mins >>> (16 * g + 8)) & 0xFF);
                for (int h = 0; h < 2; h++) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 16 + 32L * g + 16 * h, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                    int o = panelOffset + b * QK + 64 * g + 16 * h;
                    ((FloatVector) v.and(15).convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(panel, o);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(d2).sub(m2)
                            .intoArray(panel, o + 32);
                }
            }
        }
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        FloatGemm.tile(panel, stride, x.qkValues, t0 * x.width(), x.width(), x.width(), sums, lanes);
    }
}
