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
 * Q6_K weights (layout in {@link KQuants}) with Q8_K activations, in ggml's terms: per sub-block of 16 the exact
 * integer sum of (quant − 32) · activation quant, times d · scale · the activation scale. The 16 sub-blocks are
 * added in float (ggml adds them as integers first, so results agree to rounding).
 */
final class Q6_KKernel implements WeightKernel {
    static final Q6_KKernel INSTANCE = new Q6_KKernel();
    static final int QK = KQuants.QK_K;
    static final int BLOCK_BYTES = 210;
    /** Lanes 8..15 of a 16-lane vector: the pair sums of elements 16..31 of a run of 32. */
    private static final VectorMask<Float> UPPER_HALF = VectorMask.fromLong(F, 0xFF00L);

    private Q6_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void prepare(ActivationRows x, boolean batched) {
        x.prepareQ8_K();
    }

    /**
     * Each half super-block holds 4 runs of 32 elements; run k takes the low (k < 2) or high nibbles of the
     * low-bit bytes at {@code 32 (k mod 2)} and bits {@code 2k, 2k + 1} of the high-bit bytes.
     */
    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int blocks = x.width() / QK;
        short[] q = x.qk;
        float[] scale = x.qkScale;
        int xb = row * blocks;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(w.get(I16, p + 208)) * scale[xb + b];
            for (int run = 0; run < 8; run++) {
                int half = run >> 2;
                int k = run & 3;
                ShortVector low = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w,
                        p + 64 * half + 32 * (k & 1), LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                ShortVector high = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p + 128 + 32 * half, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                ShortVector quants = low.lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and((short) 15)
                        .or(high.lanewise(VectorOperators.LSHR, 2 * k).and((short) 3).lanewise(VectorOperators.LSHL, 4))
                        .sub((short) 32);
                IntVector v = quants.mul(ShortVector.fromArray(Simd.S, q, (xb + b) * QK + 128 * half + 32 * k))
                        .reinterpretAsInts();
                IntVector pairs = v.add(v.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
                long sc = p + 192 + 8 * half + 2 * k;
                FloatVector scales = FloatVector.broadcast(F, d * w.get(ValueLayout.JAVA_BYTE, sc))
                        .blend(d * w.get(ValueLayout.JAVA_BYTE, sc + 1), UPPER_HALF);
                acc = ((FloatVector) pairs.convert(VectorOperators.I2F, 0)).fma(scales, acc);
            }
        }
        acc.intoArray(lanes, 0);
        return Simd.sum16(lanes, 0);
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
            for (int run = 0; run < 16; run++) {
                int half = run >> 3;
                int k = (run >> 1) & 3;
                int part = run & 1;
                IntVector low = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w,
                        p + 64 * half + 32 * (k & 1) + 16 * part, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector high = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 128 + 32 * half + 16 * part, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector quants = low.lanewise(VectorOperators.LSHR, 4 * (k >> 1)).and(15)
                        .or(high.lanewise(VectorOperators.LSHR, 2 * k).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                float ds = d * w.get(ValueLayout.JAVA_BYTE, p + 192 + 8 * half + 2 * k + part);
                ((FloatVector) quants.convert(VectorOperators.I2F, 0)).mul(ds)
                        .intoArray(panel, panelOffset + b * QK + 128 * half + 32 * k + 16 * part);
            }
        }
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        FloatGemm.tile(panel, stride, x.qkValues, t0 * x.width(), x.width(), x.width(), sums, lanes);
    }
}
