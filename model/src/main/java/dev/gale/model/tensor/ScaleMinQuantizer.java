package dev.gale.model.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * ggml's quantize_row_q4_K_ref and quantize_row_q5_K_ref for one super-block of 256: for each sub-block of 32 a
 * scale and a min are fitted to the 4-bit (5-bit) grid by a weighted least-squares search (make_qkx2_quants), both
 * are quantized to 6 bits against the super-block's d and dmin, and the elements are quantized again with the final
 * scales. Q5_K keeps each quant's fifth bit in 32 bytes of its own ({@link KQuants}).
 */
final class ScaleMinQuantizer {
    /** The largest quant: 15 (Q4_K) or 31 (Q5_K). */
    private final int nmax;
    /** make_qkx2_quants's search: from nmax + rmin in nstep steps of 0.1 (Q4_K: -1 and 20, Q5_K: -0.5 and 15). */
    private final float rmin;
    private final int nstep;
    // scratch, so that a row of blocks allocates once
    private final int[] levels = new int[KQuants.QK_K];
    private final int[] aux = new int[32];
    private final float[] weights = new float[32];
    private final float[] mins = new float[8];
    private final float[] scales = new float[8];
    private final byte[] packed = new byte[12];
    private float fittedMin;

    private ScaleMinQuantizer(int nmax, float rmin, int nstep) {
        this.nmax = nmax;
        this.rmin = rmin;
        this.nstep = nstep;
    }

    static ScaleMinQuantizer q4_K() {
        return new ScaleMinQuantizer(15, -1f, 20);
    }

    static ScaleMinQuantizer q5_K() {
        return new ScaleMinQuantizer(31, -0.5f, 15);
    }

    /** Bytes of a super-block: 144 (Q4_K) or 176 (Q5_K). */
    int blockBytes() {
        return nmax == 15 ? 144 : 176;
    }

    void quantizeBlock(float[] x, int o, MemorySegment dst, long p) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                sumX2 += x[o + 32 * j + l] * x[o + 32 * j + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[o + 32 * j + l]);
            }
            scales[j] = fitScaleAndMin(x, o + 32 * j, 32 * j);
            mins[j] = fittedMin;
            maxScale = Math.max(maxScale, scales[j]);
            maxMin = Math.max(maxMin, mins[j]);
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        Arrays.fill(packed, (byte) 0);
        for (int j = 0; j < 8; j++) {
            int ls = Math.min(63, Quantizer.nearestInt(invScale * scales[j]) & 0xFF);
            int lm = Math.min(63, Quantizer.nearestInt(invMin * mins[j]) & 0xFF);
            if (j < 4) {
                packed[j] = (byte) ls;
                packed[j + 4] = (byte) lm;
            } else {
                packed[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte) ((ls >> 4) << 6);
                packed[j] |= (byte) ((lm >> 4) << 6);
            }
        }
        short dh = Float16.fromFloat(maxScale / 63.f);
        short dminh = Float16.fromFloat(maxMin / 63.f);
        dst.set(Dequantizer.I16, p, dh);
        dst.set(Dequantizer.I16, p + 2, dminh);
        MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, p + 4, 12);
        MemorySegment scaleBytes = MemorySegment.ofArray(packed);
        for (int j = 0; j < 8; j++) {
            int sm = KQuants.scaleAndMin(scaleBytes, 0, j);
            float d = Float.float16ToFloat(dh) * (sm & 0xFF);
            if (d == 0) {
                continue;
            }
            float dm = Float.float16ToFloat(dminh) * (sm >> 8);
            for (int ii = 0; ii < 32; ii++) {
                int l = Quantizer.nearestInt((x[o + 32 * j + ii] + dm) / d);
                levels[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
        if (nmax == 15) {
            for (int g = 0; g < 4; g++) {
                for (int l = 0; l < 32; l++) {
                    dst.set(ValueLayout.JAVA_BYTE, p + 16 + 32 * g + l,
                            (byte) (levels[64 * g + l] | levels[64 * g + 32 + l] << 4));
                }
            }
            return;
        }
        // Q5_K: the low nibbles as Q4_K's (after 32 bytes of fifth bits); element 64 g + l's fifth bit is bit 2 g of
        // byte l, element 64 g + 32 + l's bit 2 g + 1
        for (int l = 0; l < 32; l++) {
            int high = 0;
            for (int g = 0; g < 4; g++) {
                int a = levels[64 * g + l];
                int b = levels[64 * g + 32 + l];
                dst.set(ValueLayout.JAVA_BYTE, p + 48 + 32 * g + l, (byte) ((a & 15) | (b & 15) << 4));
                high |= (a >> 4) << 2 * g | (b >> 4) << 2 * g + 1;
            }
            dst.set(ValueLayout.JAVA_BYTE, p + 16 + l, (byte) high);
        }
    }

    /**
     * make_qkx2_quants(32, nmax, x, weights, L, &min, Laux, rmin, 0.1, nstep, false): returns the scale, stores the
     * (negated) min in {@link #fittedMin} and the levels in {@code levels[lo ..]}.
     */
    private float fitScaleAndMin(float[] x, int o, int lo) {
        int n = 32;
        int nmax = this.nmax;
        float rmin = this.rmin;
        float rdelta = 0.1f;
        int nstep = this.nstep;
        float min = x[o];
        float max = x[o];
        float sumW = weights[0];
        float sumX = sumW * x[o];
        for (int i = 1; i < n; i++) {
            if (x[o + i] < min) {
                min = x[o + i];
            }
            if (x[o + i] > max) {
                max = x[o + i];
            }
            float w = weights[i];
            sumW += w;
            sumX += w * x[o + i];
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                levels[lo + i] = 0;
            }
            fittedMin = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = Quantizer.nearestInt(iscale * (x[o + i] - min));
            levels[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * levels[lo + i] + min - x[o + i];
            bestError += weights[i] * (diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, Quantizer.nearestInt(iscale * (x[o + i] - min))));
                aux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[o + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[o + i];
                    curError += weights[i] * (diff * diff);
                }
                if (curError < bestError) {
                    System.arraycopy(aux, 0, levels, lo, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        fittedMin = -min;
        return scale;
    }
}
