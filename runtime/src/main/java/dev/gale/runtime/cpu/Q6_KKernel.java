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
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K weights (layout in {@link KQuants}): (d·scale)·(q − 32), as {@link KQuants} computes it. In each half
 * super-block, run k (of 4 runs of 32) takes the low (k < 2) or high nibbles of the low-bit bytes at
 * {@code 32 (k mod 2)} and bits {@code 2k, 2k + 1} of the high-bit bytes.
 */
final class Q6_KKernel extends SuperBlockKernel {
    static final Q6_KKernel INSTANCE = new Q6_KKernel();

    private Q6_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    int blockBytes() {
        return 210;
    }

    /** The values of {@link #expand}, multiplied in place in the same order (0, 16, 32, ...), with no store. */
    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        float[] a = x.qkValues;
        int xo = row * n;
        FloatVector acc = FloatVector.zero(F);
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + 210L * (k0 / QK);
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
                acc = ((FloatVector) quants.convert(VectorOperators.I2F, 0)).mul(ds)
                        .fma(FloatVector.fromArray(F, a, xo + k0 + 16 * run), acc);
            }
        }
        acc.intoArray(lanes, 0);
        return Simd.sum16(lanes, 0);
    }

    @Override
    void expand(MemorySegment w, long p, float[] dst, int o) {
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
                    .intoArray(dst, o + 128 * half + 32 * k + 16 * part);
        }
    }
}
