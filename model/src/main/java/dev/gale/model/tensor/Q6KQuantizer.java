package dev.gale.model.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ggml's quantize_row_q6_K_ref for one super-block of 256: each sub-block of 16 gets a symmetric scale fitted to the
 * 6-bit grid [-32, 31] by a weighted least-squares search (make_qx_quants, weights x²); the 16 scales are quantized
 * to signed bytes against the super-block's d, which maps the largest scale to -128 (so d is negative when that
 * scale is positive); the elements are quantized again with the final scales d·sc and packed as {@link KQuants}
 * reads them (low nibbles in ql, the two high bits in qh).
 */
final class Q6KQuantizer {
    private static final int NMAX = 32;
    // scratch, so that a row of blocks allocates once
    private final int[] levels = new int[KQuants.QK_K];
    private final float[] scales = new float[16];
    private final byte[] packed = new byte[208];
    /** The weighted sums of {@link #fit}: Σ w·x·l and Σ w·l². */
    private float sumlx;
    private float suml2;

    void quantizeBlock(float[] x, int o, MemorySegment dst, long p) {
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = fitScale(x, o + 16 * ib);
            scales[ib] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale < 1e-30f) {
            MemorySegment.copy(new byte[210], 0, dst, ValueLayout.JAVA_BYTE, p, 210);
            return;
        }
        float iscale = -128f / maxScale;
        short dh = Float16.fromFloat(1 / iscale);
        float d = Float16.toFloat(dh);
        for (int ib = 0; ib < 16; ib++) {
            int sc = Math.min(127, Quantizer.nearestInt(iscale * scales[ib]));
            packed[192 + ib] = (byte) sc;
            float ds = d * sc;
            for (int i = 0; i < 16; i++) {
                int l = ds == 0 ? 0 : Quantizer.nearestInt(x[o + 16 * ib + i] / ds);
                levels[16 * ib + i] = Math.max(-NMAX, Math.min(NMAX - 1, l)) + NMAX;
            }
        }
        for (int half = 0; half < 2; half++) {
            int ql = 64 * half;
            int qh = 128 + 32 * half;
            int y = 128 * half;
            for (int l = 0; l < 32; l++) {
                int q1 = levels[y + l];
                int q2 = levels[y + l + 32];
                int q3 = levels[y + l + 64];
                int q4 = levels[y + l + 96];
                packed[ql + l] = (byte) ((q1 & 15) | (q3 & 15) << 4);
                packed[ql + l + 32] = (byte) ((q2 & 15) | (q4 & 15) << 4);
                packed[qh + l] = (byte) (q1 >> 4 | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        }
        MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, p, 208);
        dst.set(Dequantizer.I16, p + 208, dh);
    }

    /**
     * The least-squares scale of the 16 values at {@code x[o ..]} on the grid [-32, 31], with weights x²: the grid
     * step is tried at 19 values around max/32, each time the values rounded and the scale that fits them best kept.
     */
    private float fitScale(float[] x, int o) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < 16; i++) {
            float a = Math.abs(x[o + i]);
            if (a > amax) {
                amax = a;
                max = x[o + i];
            }
        }
        if (amax < 1e-30f) {
            return 0;
        }
        fit(x, o, -NMAX / max);
        float scale = suml2 > 0 ? sumlx / suml2 : 0;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            fit(x, o, -(NMAX + 0.1f * is) / max);
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /** {@link #sumlx} and {@link #suml2} of the 16 values at {@code x[o ..]} rounded to the grid at {@code iscale}. */
    private void fit(float[] x, int o, float iscale) {
        float lx = 0;
        float l2 = 0;
        for (int i = 0; i < 16; i++) {
            float v = x[o + i];
            int l = Math.max(-NMAX, Math.min(NMAX - 1, Quantizer.nearestInt(iscale * v)));
            float w = v * v;
            lx += w * v * l;
            l2 += w * l * l;
        }
        sumlx = lx;
        suml2 = l2;
    }
}
