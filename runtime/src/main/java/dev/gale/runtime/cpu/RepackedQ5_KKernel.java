package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.F32;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.KQuants;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Q5_K weights in the repacked layout of {@link RepackedMatrices}: each super-block of 256 as its 256 quants (0 to
 * 31), a byte each in element order, then its 8 sub-block scales and 8 minimums (the file's 6-bit values, a byte
 * each), then d and dmin as floats: 280 bytes where the file has 176. The file packs each quant as a nibble and a bit
 * of other bytes; here a run of 16 values is one 16-byte load widened to floats, and a super-block's 8 scales d·sc and
 * 8 minimums dmin·m are formed in one vector.
 *
 * <p>Decode takes {@link Q5_KKernel}'s steps: each run's quants as floats times d·sc minus dmin·m (one fused
 * multiply-add), then a fused multiply-add with the activation, one 16-lane chain per row. As for the repacked Q4_K
 * and Q6_K, the activation is quantized to Q8_0 (a scale per 32 elements) rather than ggml's Q8_K, so that batches of
 * 16 tokens or more can go through {@link BlockGemm} with Q8_0 tiles, on panels of {@link Q5_KKernel#expand}'s
 * values, and agree with decode to rounding; smaller batches take the float panel.
 */
final class RepackedQ5_KKernel extends ByteQuantKernel {
    static final RepackedQ5_KKernel INSTANCE = new RepackedQ5_KKernel();
    /** Bytes of a repacked super-block: 256 quants, 8 scales, 8 minimums, d, dmin. */
    static final int BLOCK_BYTES = QK + 16 + 2 * Float.BYTES;
    /** Lanes 8 to 15: where the minimums' factor dmin goes in the vector that multiplies the 16 scale bytes. */
    private static final VectorMask<Float> MINIMUMS = VectorMask.fromLong(F, 0xFF00L);

    private RepackedQ5_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    int fileBlockBytes() {
        return 176;
    }

    @Override
    int blockBytes() {
        return BLOCK_BYTES;
    }

    /**
     * ggml's block_q5_K (d, dmin, 12 bytes of packed scales and minimums, 32 high-bit bytes, 128 nibble bytes) as
     * quants, scales, minimums, d, dmin.
     */
    @Override
    void repackBlock(byte[] in, int p, byte[] out, int o) {
        // group g (64 elements) takes the low nibbles of bytes 32g .. 32g + 31 with bit 2g of the high-bit bytes,
        // then their high nibbles with bit 2g + 1
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                int v = in[p + 48 + 32 * g + l] & 0xff;
                int h = in[p + 16 + l] & 0xff;
                out[o + 64 * g + l] = (byte) ((v & 15) | (h >> 2 * g & 1) << 4);
                out[o + 64 * g + 32 + l] = (byte) ((v >> 4) | (h >> 2 * g + 1 & 1) << 4);
            }
        }
        MemorySegment file = MemorySegment.ofArray(in);
        long scales = KQuants.packedScales(file, p + 4);
        long mins = KQuants.packedMins(file, p + 4);
        for (int j = 0; j < 8; j++) {
            out[o + QK + j] = (byte) (scales >>> 8 * j);
            out[o + QK + 8 + j] = (byte) (mins >>> 8 * j);
        }
        putFloat(out, o + QK + 16, half(in, p));
        putFloat(out, o + QK + 20, half(in, p + 2));
    }

    /**
     * Row {@code r} of a {@link BlockGemm} panel: each block of 32 (a sub-block) as its values d·sc·q − dmin·m (those
     * of {@link Q5_KKernel#expand}), with a scale of 1, multiplied with the activation's Q8_0 tiles.
     */
    @Override
    public void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, long[] pairs, int r) {
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + (long) BLOCK_BYTES * (k0 / QK);
            float d = w.get(F32, p + QK + 16);
            float dmin = w.get(F32, p + QK + 20);
            for (int s = 0; s < 8; s++) {
                float d1 = d * w.get(ValueLayout.JAVA_BYTE, p + QK + s);
                float m1 = dmin * w.get(ValueLayout.JAVA_BYTE, p + QK + 8 + s);
                int b = k0 / BlockGemm.BLOCK + s;
                FloatVector low = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 32L * s, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(d1, -m1);
                FloatVector high = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 32L * s + 16, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(d1, -m1);
                if (pairs != null) {
                    low.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(b, r));
                    high.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(b, r) + 8);
                } else {
                    low.intoArray(panel, BlockGemm.at(b, r));
                    high.intoArray(panel, BlockGemm.at(b, r) + 16);
                }
            }
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        float[] a = x.q8Values;
        int xo = row * n;
        FloatVector acc = FloatVector.zero(F);
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + (long) BLOCK_BYTES * (k0 / QK);
            // d·sc of the 8 sub-blocks into lanes[16 .. 24), dmin·m into lanes[24 .. 32)
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.broadcast(F, w.get(F32, p + QK + 16)).blend(w.get(F32, p + QK + 20), MINIMUMS))
                    .intoArray(lanes, 16);
            int at = xo + k0;
            for (int s = 0; s < 8; s++) {
                float d1 = lanes[16 + s];
                float m1 = lanes[24 + s];
                acc = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 32L * s, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(d1, -m1)
                        .fma(FloatVector.fromArray(F, a, at + 32 * s), acc);
                acc = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 32L * s + 16, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).fma(d1, -m1)
                        .fma(FloatVector.fromArray(F, a, at + 32 * s + 16), acc);
            }
        }
        acc.intoArray(lanes, 0);
        return Simd.sum16(lanes, 0);
    }

    /** {@link #dot} of four rows at once (see {@link WeightKernel#dot4}), sharing the loads of the activations. */
    @Override
    public void dot4(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        int n = x.width();
        float[] a = x.q8Values;
        int xo = row * n;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p0 = offset + (long) BLOCK_BYTES * (k0 / QK);
            long p1 = p0 + gap;
            long p2 = p1 + gap;
            long p3 = p2 + gap;
            // each row's d·sc and dmin·m into lanes[64 + 16 j ..)
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p0 + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.broadcast(F, w.get(F32, p0 + QK + 16)).blend(w.get(F32, p0 + QK + 20), MINIMUMS))
                    .intoArray(lanes, 64);
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p1 + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.broadcast(F, w.get(F32, p1 + QK + 16)).blend(w.get(F32, p1 + QK + 20), MINIMUMS))
                    .intoArray(lanes, 80);
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p2 + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.broadcast(F, w.get(F32, p2 + QK + 16)).blend(w.get(F32, p2 + QK + 20), MINIMUMS))
                    .intoArray(lanes, 96);
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p3 + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.broadcast(F, w.get(F32, p3 + QK + 16)).blend(w.get(F32, p3 + QK + 20), MINIMUMS))
                    .intoArray(lanes, 112);
            int at = xo + k0;
            for (int s = 0; s < 8; s++) {
                for (int h = 0; h < 2; h++) {
                    FloatVector xv = FloatVector.fromArray(F, a, at + 32 * s + 16 * h);
                    long q = 32L * s + 16 * h;
                    acc0 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p0 + q, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).fma(lanes[64 + s], -lanes[72 + s]).fma(xv, acc0);
                    acc1 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p1 + q, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).fma(lanes[80 + s], -lanes[88 + s]).fma(xv, acc1);
                    acc2 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p2 + q, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).fma(lanes[96 + s], -lanes[104 + s]).fma(xv, acc2);
                    acc3 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p3 + q, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).fma(lanes[112 + s], -lanes[120 + s]).fma(xv, acc3);
                }
            }
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 16);
        acc2.intoArray(lanes, 32);
        acc3.intoArray(lanes, 48);
        for (int j = 0; j < 4; j++) {
            out[o + j * outGap] = Simd.sum16(lanes, 16 * j);
        }
    }

    /** The values of {@link Q5_KKernel#expand}: each run's quants as floats times d·sc minus dmin·m. */
    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + (long) BLOCK_BYTES * (k0 / QK);
            float d = w.get(F32, p + QK + 16);
            float dmin = w.get(F32, p + QK + 20);
            for (int s = 0; s < 8; s++) {
                float d1 = d * w.get(ValueLayout.JAVA_BYTE, p + QK + s);
                float m1 = dmin * w.get(ValueLayout.JAVA_BYTE, p + QK + 8 + s);
                for (int h = 0; h < 2; h++) {
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 32L * s + 16 * h, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).fma(d1, -m1)
                            .intoArray(panel, panelOffset + k0 + 32 * s + 16 * h);
                }
            }
        }
    }
}
