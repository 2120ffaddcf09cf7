package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.I16;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.KQuants;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K weights (layout in {@link KQuants}) with Q8_K activations: per super-block the integer sum of
 * scale × ((quant − 32) · activation quant) over the 16 sub-blocks of 16, times d and the activation scale.
 */
final class Q6_KKernel implements WeightKernel {
    static final Q6_KKernel INSTANCE = new Q6_KKernel();
    static final int QK = KQuants.QK_K;
    static final int BLOCK_BYTES = 210;
    /** Lanes 8..15 of a 16-lane int vector: the pair sums of elements 16..31 of a run of 32. */
    private static final VectorMask<Integer> UPPER_HALF = VectorMask.fromLong(Simd.I, 0xFF00L);

    private Q6_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void prepare(ActivationRows x, boolean batched) {
        x.prepareQ8_K();
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row) {
        int blocks = x.width() / QK;
        short[] q = x.qk;
        float[] scale = x.qkScale;
        int xb = row * blocks;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            int xo = (xb + b) * QK;
            IntVector sum = IntVector.zero(Simd.I);
            for (int half = 0; half < 2; half++) {
                ShortVector a = bytes(w, p + 64 * half);
                ShortVector c = bytes(w, p + 64 * half + 32);
                ShortVector h = bytes(w, p + 128 + 32 * half);
                long sc = p + 192 + 8 * half;
                int xh = xo + 128 * half;
                ShortVector q1 = a.and((short) 15).or(h.and((short) 3).lanewise(VectorOperators.LSHL, 4));
                ShortVector q2 = c.and((short) 15).or(h.and((short) 12).lanewise(VectorOperators.LSHL, 2));
                ShortVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.and((short) 48));
                ShortVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(h.and((short) 192).lanewise(VectorOperators.LSHR, 2));
                sum = sum.add(run(q1, q, xh, w, sc));
                sum = sum.add(run(q2, q, xh + 32, w, sc + 2));
                sum = sum.add(run(q3, q, xh + 64, w, sc + 4));
                sum = sum.add(run(q4, q, xh + 96, w, sc + 6));
            }
            float d = Float.float16ToFloat(w.get(I16, p + 208)) * scale[xb + b];
            acc = ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d), acc);
        }
        return Simd.sum(acc);
    }

    private static ShortVector bytes(MemorySegment w, long p) {
        return (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
    }

    /** A run of 32 elements: pair sums of (q − 32) · x, times the scales of its two sub-blocks (at sc, sc + 1). */
    private static IntVector run(ShortVector quants, short[] x, int xOffset, MemorySegment w, long sc) {
        IntVector pairs = Simd.pairSums(quants.sub((short) 32).mul(ShortVector.fromArray(Simd.S, x, xOffset)));
        IntVector scales = IntVector.broadcast(Simd.I, w.get(ValueLayout.JAVA_BYTE, sc))
                .blend(w.get(ValueLayout.JAVA_BYTE, sc + 1), UPPER_HALF);
        return pairs.mul(scales);
    }

    @Override
    public int panelStride(int n) {
        return n;
    }

    /** The row's values, computed as {@link KQuants} does ((d·scale)·(q − 32)). */
    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        int blocks = n / QK;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(w.get(I16, p + 208));
            for (int half = 0; half < 2; half++) {
                long sc = p + 192 + 8 * half;
                for (int k = 0; k < 2; k++) {
                    IntVector a = ints(w, p + 64 * half + 16 * k);
                    IntVector c = ints(w, p + 64 * half + 32 + 16 * k);
                    IntVector h = ints(w, p + 128 + 32 * half + 16 * k);
                    int o = panelOffset + b * QK + 128 * half + 16 * k;
                    store(a.and(15).or(h.and(3).lanewise(VectorOperators.LSHL, 4)), d, w, sc + k, panel, o);
                    store(c.and(15).or(h.and(12).lanewise(VectorOperators.LSHL, 2)), d, w, sc + k + 2, panel, o + 32);
                    store(a.lanewise(VectorOperators.LSHR, 4).or(h.and(48)), d, w, sc + k + 4, panel, o + 64);
                    store(c.lanewise(VectorOperators.LSHR, 4).or(h.and(192).lanewise(VectorOperators.LSHR, 2)), d, w,
                            sc + k + 6, panel, o + 96);
                }
            }
        }
    }

    private static IntVector ints(MemorySegment w, long p) {
        return (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
    }

    private static void store(IntVector quants, float d, MemorySegment w, long sc, float[] dst, int o) {
        float ds = d * w.get(ValueLayout.JAVA_BYTE, sc);
        ((FloatVector) quants.sub(32).convert(VectorOperators.I2F, 0)).mul(ds).intoArray(dst, o);
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums) {
        FloatGemm.tile(panel, stride, x.qkValues, t0 * x.width(), x.width(), x.width(), sums);
    }
}
