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
 * Q5_K weights (layout in {@link KQuants}): as {@link Q4_KKernel}, with each quant's fifth bit from the 32 high-bit
 * bytes.
 */
final class Q5_KKernel extends SuperBlockKernel {
    static final Q5_KKernel INSTANCE = new Q5_KKernel();

    private Q5_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    int blockBytes() {
        return 176;
    }

    /** The values of {@link #expand}, multiplied in place in the same order (0, 16, 32, ...), with no store. */
    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        float[] a = x.qkValues;
        int xo = row * n;
        FloatVector acc = FloatVector.zero(F);
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + 176L * (k0 / QK);
            float d = Float.float16ToFloat(w.get(I16, p));
            float dmin = Float.float16ToFloat(w.get(I16, p + 2));
            long scales = KQuants.packedScales(w, p + 4);
            long mins = KQuants.packedMins(w, p + 4);
            IntVector bits0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 16, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
            IntVector bits1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 32, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
            for (int g = 0; g < 4; g++) {
                float d1 = d * ((int) (scales >>> (16 * g)) & 0xFF);
                float m1 = dmin * ((int) (mins >>> (16 * g)) & 0xFF);
                float d2 = d * ((int) (scales >>> (16 * g + 8)) & 0xFF);
                float m2 = dmin * ((int) (mins >>> (16 * g + 8)) & 0xFF);
                IntVector v0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 48 + 32L * g, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector v1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 64 + 32L * g, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector h0 = bits0.lanewise(VectorOperators.LSHR, 2 * g);
                IntVector h1 = bits1.lanewise(VectorOperators.LSHR, 2 * g);
                int at = xo + k0 + 64 * g;
                acc = ((FloatVector) v0.and(15).add(h0.and(1).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).fma(d1, -m1).fma(FloatVector.fromArray(F, a, at), acc);
                acc = ((FloatVector) v1.and(15).add(h1.and(1).lanewise(VectorOperators.LSHL, 4))
                        .convert(VectorOperators.I2F, 0)).fma(d1, -m1).fma(FloatVector.fromArray(F, a, at + 16), acc);
                acc = ((FloatVector) v0.lanewise(VectorOperators.LSHR, 4).add(h0.and(2).lanewise(VectorOperators.LSHL, 3))
                        .convert(VectorOperators.I2F, 0)).fma(d2, -m2).fma(FloatVector.fromArray(F, a, at + 32), acc);
                acc = ((FloatVector) v1.lanewise(VectorOperators.LSHR, 4).add(h1.and(2).lanewise(VectorOperators.LSHL, 3))
                        .convert(VectorOperators.I2F, 0)).fma(d2, -m2).fma(FloatVector.fromArray(F, a, at + 48), acc);
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
                IntVector v = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 48 + 32L * g + 16 * h, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector bits = ((IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 16 + 16 * h, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0)).lanewise(VectorOperators.LSHR, 2 * g);
                IntVector lo = v.and(15).add(bits.and(1).lanewise(VectorOperators.LSHL, 4));
                IntVector hi = v.lanewise(VectorOperators.LSHR, 4).add(bits.and(2).lanewise(VectorOperators.LSHL, 3));
                int at = o + 64 * g + 16 * h;
                ((FloatVector) lo.convert(VectorOperators.I2F, 0)).fma(d1, -m1).intoArray(dst, at);
                ((FloatVector) hi.convert(VectorOperators.I2F, 0)).fma(d2, -m2).intoArray(dst, at + 32);
            }
        }
    }
}
