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

    /**
     * The values of {@link #expand}, multiplied in place in the same order (0, 16, 32, ...), with no store. Each half
     * super-block's 64 low-bit and 32 high-bit bytes are loaded once, in six 16-byte loads, and its eight runs of 16
     * taken from them with constant shifts.
     */
    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        float[] a = x.qkValues;
        int xo = row * n;
        FloatVector acc = FloatVector.zero(F);
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + 210L * (k0 / QK);
            float d = Float.float16ToFloat(w.get(I16, p + 208));
            // the 16 sub-block scales d·sc, computed at once into lanes[16 .. 32) (the accumulator goes to lanes[0 ..
            // 16) only at the end), each then broadcast from memory
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 192, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(lanes, 16);
            for (int half = 0; half < 2; half++) {
                long low = p + 64 * half;
                long high = p + 128 + 32 * half;
                int at = xo + k0 + 128 * half;
                IntVector a0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, low, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector a1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, low + 16, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector b0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, low + 32, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector b1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, low + 48, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector h0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, high, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                IntVector h1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, high + 16, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
                // run 0: elements 0..15 of the half, bits 0 and 1 of the high-bit bytes
                IntVector q0 = a0.and(15).or(h0.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32);
                acc = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).mul(lanes[16 + 8 * half + 0])
                        .fma(FloatVector.fromArray(F, a, at + 0), acc);
                // run 1: elements 16..31 of the half, bits 0 and 1 of the high-bit bytes
                IntVector q1 = a1.and(15).or(h1.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32);
                acc = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(lanes[16 + 8 * half + 1])
                        .fma(FloatVector.fromArray(F, a, at + 16), acc);
                // run 2: elements 32..47 of the half, bits 2 and 3 of the high-bit bytes
                IntVector q2 = b0.and(15).or(h0.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                acc = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(lanes[16 + 8 * half + 2])
                        .fma(FloatVector.fromArray(F, a, at + 32), acc);
                // run 3: elements 48..63 of the half, bits 2 and 3 of the high-bit bytes
                IntVector q3 = b1.and(15).or(h1.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32);
                acc = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(lanes[16 + 8 * half + 3])
                        .fma(FloatVector.fromArray(F, a, at + 48), acc);
                // run 4: elements 64..79 of the half, bits 4 and 5 of the high-bit bytes
                IntVector q4 = a0.lanewise(VectorOperators.LSHR, 4).or(h0.and(0x30)).sub(32);
                acc = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(lanes[16 + 8 * half + 4])
                        .fma(FloatVector.fromArray(F, a, at + 64), acc);
                // run 5: elements 80..95 of the half, bits 4 and 5 of the high-bit bytes
                IntVector q5 = a1.lanewise(VectorOperators.LSHR, 4).or(h1.and(0x30)).sub(32);
                acc = ((FloatVector) q5.convert(VectorOperators.I2F, 0)).mul(lanes[16 + 8 * half + 5])
                        .fma(FloatVector.fromArray(F, a, at + 80), acc);
                // run 6: elements 96..111 of the half, bits 6 and 7 of the high-bit bytes
                IntVector q6 = b0.lanewise(VectorOperators.LSHR, 4)
                        .or(h0.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
                acc = ((FloatVector) q6.convert(VectorOperators.I2F, 0)).mul(lanes[16 + 8 * half + 6])
                        .fma(FloatVector.fromArray(F, a, at + 96), acc);
                // run 7: elements 112..127 of the half, bits 6 and 7 of the high-bit bytes
                IntVector q7 = b1.lanewise(VectorOperators.LSHR, 4)
                        .or(h1.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32);
                acc = ((FloatVector) q7.convert(VectorOperators.I2F, 0)).mul(lanes[16 + 8 * half + 7])
                        .fma(FloatVector.fromArray(F, a, at + 112), acc);
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
