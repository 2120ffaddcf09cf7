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
import jdk.incubator.vector.VectorOperators;

/**
 * Q4_K weights (layout in {@link KQuants}): each value is fma(q, d·scale, −dmin·min), one rounding (ggml's
 * dequantization rounds twice; the difference is far below the quantization step).
 */
final class Q4_KKernel extends SuperBlockKernel {
    static final Q4_KKernel INSTANCE = new Q4_KKernel();

    private Q4_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    int blockBytes() {
        return 144;
    }

    /** The values of {@link #expand}, multiplied in place in the same order (0, 16, 32, ...), with no store. */
    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        float[] a = x.qkValues;
        int xo = row * n;
        FloatVector acc = FloatVector.zero(F);
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + 144L * (k0 / QK);
            float d = Float.float16ToFloat(w.get(I16, p));
            float dmin = Float.float16ToFloat(w.get(I16, p + 2));
            long scales = KQuants.packedScales(w, p + 4);
            long mins = KQuants.packedMins(w, p + 4);
            for (int g = 0; g < 4; g++) {
                float d1 = d * ((int) (scales >>> (16 * g)) & 0xFF);
                float m1 = dmin * ((int) (mins >>> (16 * g)) & 0xFF);
                float d2 = d * ((int) (scales >>> (16 * g + 8)) & 0xFF);
                float m2 = dmin * ((int) (mins >>> (16 * g + 8)) & 0xFF);
                IntVector v0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 16 + 32L * g, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector v1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 32 + 32L * g, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                int at = xo + k0 + 64 * g;
                acc = ((FloatVector) v0.and(15).convert(VectorOperators.I2F, 0)).fma(d1, -m1)
                        .fma(FloatVector.fromArray(F, a, at), acc);
                acc = ((FloatVector) v1.and(15).convert(VectorOperators.I2F, 0)).fma(d1, -m1)
                        .fma(FloatVector.fromArray(F, a, at + 16), acc);
                acc = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(d2, -m2)
                        .fma(FloatVector.fromArray(F, a, at + 32), acc);
                acc = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(d2, -m2)
                        .fma(FloatVector.fromArray(F, a, at + 48), acc);
            }
        }
        acc.intoArray(lanes, 0);
        return Simd.sum16(lanes, 0);
    }

    @Override
    void expand(MemorySegment w, long p, float[] dst, int o) {
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
                int at = o + 64 * g + 16 * h;
                ((FloatVector) v.and(15).convert(VectorOperators.I2F, 0)).fma(d1, -m1).intoArray(dst, at);
                ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(d2, -m2)
                        .intoArray(dst, at + 32);
            }
        }
    }
}
