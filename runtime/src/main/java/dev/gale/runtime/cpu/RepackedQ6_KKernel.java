package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.F32;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q6_K weights in the repacked layout of {@link RepackedMatrices}: each super-block of 256 as its 256 quants q − 32,
 * one signed byte each in element order, then its 16 sub-block scales (the file's signed bytes), then its d as a
 * float: 276 bytes where the file has 210. The file packs each 6-bit quant as a nibble and two bits in other bytes,
 * and taking them apart was most of {@link Q6_KKernel}'s work; here a run of 16 values is one 16-byte load widened
 * to floats.
 *
 * <p>Decode takes {@link Q6_KKernel}'s steps: each run's quants as floats times its scale d·sc (computed for the
 * super-block's 16 runs in one vector), then a fused multiply-add with the activation, one 16-lane chain per row. The
 * activation is quantized to Q8_0 (a scale per 32 elements) rather than ggml's Q8_K (one per 256), as for the
 * repacked Q4_K: batches of 16 tokens or more go through {@link BlockGemm} with Q8_0 tiles, on panels of the values
 * d·sc·(q − 32) (those of {@link Q6_KKernel#expand}), and a sequence computed alone and in a batch then agree to
 * rounding, as with Q8_0 and Q4_K weights.
 */
final class RepackedQ6_KKernel extends ByteQuantKernel {
    static final RepackedQ6_KKernel INSTANCE = new RepackedQ6_KKernel();
    /** Bytes of a repacked super-block: 256 quants, 16 scales, d. */
    static final int BLOCK_BYTES = QK + 16 + Float.BYTES;

    private RepackedQ6_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    int fileBlockBytes() {
        return 210;
    }

    @Override
    int blockBytes() {
        return BLOCK_BYTES;
    }

    /** ggml's block_q6_K (128 bytes of low nibbles, 64 of high bits, 16 scales, d) as quants − 32, scales, d. */
    @Override
    void repackBlock(byte[] in, int p, byte[] out, int o) {
        for (int half = 0; half < 2; half++) {
            int ql = p + 64 * half;
            int qh = p + 128 + 32 * half;
            int y = o + 128 * half;
            // element l (< 32) of a half takes the low nibble of ql[l] and bits 0-1 of qh[l]; l + 32 the low nibble
            // of ql[l + 32] and bits 2-3; l + 64 the high nibble of ql[l] and bits 4-5; l + 96 the high nibble of
            // ql[l + 32] and bits 6-7
            for (int l = 0; l < 32; l++) {
                int h = in[qh + l] & 0xff;
                int a = in[ql + l] & 0xff;
                int b = in[ql + l + 32] & 0xff;
                out[y + l] = (byte) (((a & 15) | (h & 3) << 4) - 32);
                out[y + l + 32] = (byte) (((b & 15) | (h >> 2 & 3) << 4) - 32);
                out[y + l + 64] = (byte) (((a >> 4) | (h >> 4 & 3) << 4) - 32);
                out[y + l + 96] = (byte) (((b >> 4) | (h >> 6) << 4) - 32);
            }
        }
        System.arraycopy(in, p + 192, out, o + QK, 16);
        putFloat(out, o + QK + 16, half(in, p + 208));
    }

    /**
     * Row {@code r} of a {@link BlockGemm} panel: the values d·sc·(q − 32) of each block of 32 (one rounding, as in
     * {@link Q6_KKernel#expand}), with a scale of 1, multiplied with the activation's Q8_0 tiles.
     */
    @Override
    public void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, long[] pairs, int r) {
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + (long) BLOCK_BYTES * (k0 / QK);
            float d = w.get(F32, p + QK + 16);
            for (int run = 0; run < 16; run++) {
                float ds = d * w.get(ValueLayout.JAVA_BYTE, p + QK + run);
                int b = (k0 + 16 * run) / 32;
                FloatVector v = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 16L * run, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(ds);
                if (pairs != null) {
                    v.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(b, r) + 8 * (run & 1));
                } else {
                    v.intoArray(panel, BlockGemm.at(b, r) + 16 * (run & 1));
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
            // the 16 scales d·sc at once into lanes[16 .. 32), each then broadcast from there
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(w.get(F32, p + QK + 16)).intoArray(lanes, 16);
            int at = xo + k0;
            for (int run = 0; run < 16; run++) {
                acc = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 16 * run, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(lanes[16 + run])
                        .fma(FloatVector.fromArray(F, a, at + 16 * run), acc);
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
            // the four rows' scales d·sc into lanes[64 .. 128)
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p0 + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(w.get(F32, p0 + QK + 16)).intoArray(lanes, 64);
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p1 + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(w.get(F32, p1 + QK + 16)).intoArray(lanes, 80);
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p2 + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(w.get(F32, p2 + QK + 16)).intoArray(lanes, 96);
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p3 + QK, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(w.get(F32, p3 + QK + 16)).intoArray(lanes, 112);
            int at = xo + k0;
            for (int run = 0; run < 16; run++) {
                FloatVector xv = FloatVector.fromArray(F, a, at + 16 * run);
                long q = 16L * run;
                acc0 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p0 + q, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(lanes[64 + run]).fma(xv, acc0);
                acc1 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p1 + q, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(lanes[80 + run]).fma(xv, acc1);
                acc2 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p2 + q, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(lanes[96 + run]).fma(xv, acc2);
                acc3 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p3 + q, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(lanes[112 + run]).fma(xv, acc3);
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

    /** The values of {@link Q6_KKernel#expand}: each run's quants as floats times d·sc. */
    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        for (int k0 = 0; k0 < n; k0 += QK) {
            long p = offset + (long) BLOCK_BYTES * (k0 / QK);
            float d = w.get(F32, p + QK + 16);
            for (int run = 0; run < 16; run++) {
                float ds = d * w.get(ValueLayout.JAVA_BYTE, p + QK + run);
                ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 16L * run, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(ds).intoArray(panel, panelOffset + k0 + 16 * run);
            }
        }
    }
}
