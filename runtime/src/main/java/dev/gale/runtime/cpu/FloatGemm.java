package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;

import jdk.incubator.vector.FloatVector;

/**
 * The batched path's inner kernel for float panels (F32, F16, BF16 weights): a 4 × 4 tile of dot products between
 * 4 weight rows and 4 activation rows, with the 16 partial sums held in vector registers. Each weight vector loaded
 * is used for 4 tokens and each activation vector for 4 weight rows. Like tinyBLAS, every dot product has one
 * 16-lane accumulator and ends with a halving sum.
 */
final class FloatGemm {
    static final int ROWS = 4;
    static final int TOKENS = ActivationRows.TOKEN_TILE;

    private FloatGemm() {}

    /**
     * {@code sums[r * TOKENS + t] = dot(panel row r, x row t)} over {@code n} elements, where panel row r starts at
     * {@code r * stride} and x row t at {@code xOffset + t * xStride}; {@code lanes} is scratch of 256 floats.
     */
    static void tile(float[] panel, int stride, float[] x, int xOffset, int xStride, int n, float[] sums, float[] lanes) {
        int p1 = stride;
        int p2 = 2 * stride;
        int p3 = 3 * stride;
        int x0 = xOffset;
        int x1 = xOffset + xStride;
        int x2 = xOffset + 2 * xStride;
        int x3 = xOffset + 3 * xStride;
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int vectors = n & ~15;
        for (int k = 0; k < vectors; k += 16) {
            FloatVector w0 = FloatVector.fromArray(F, panel, k);
            FloatVector w1 = FloatVector.fromArray(F, panel, p1 + k);
            FloatVector w2 = FloatVector.fromArray(F, panel, p2 + k);
            FloatVector w3 = FloatVector.fromArray(F, panel, p3 + k);
            FloatVector a = FloatVector.fromArray(F, x, x0 + k);
            c00 = w0.fma(a, c00);
            c10 = w1.fma(a, c10);
            c20 = w2.fma(a, c20);
            c30 = w3.fma(a, c30);
            a = FloatVector.fromArray(F, x, x1 + k);
            c01 = w0.fma(a, c01);
            c11 = w1.fma(a, c11);
            c21 = w2.fma(a, c21);
            c31 = w3.fma(a, c31);
            a = FloatVector.fromArray(F, x, x2 + k);
            c02 = w0.fma(a, c02);
            c12 = w1.fma(a, c12);
            c22 = w2.fma(a, c22);
            c32 = w3.fma(a, c32);
            a = FloatVector.fromArray(F, x, x3 + k);
            c03 = w0.fma(a, c03);
            c13 = w1.fma(a, c13);
            c23 = w2.fma(a, c23);
            c33 = w3.fma(a, c33);
        }
        c00.intoArray(lanes, 0);
        c01.intoArray(lanes, 16);
        c02.intoArray(lanes, 32);
        c03.intoArray(lanes, 48);
        c10.intoArray(lanes, 64);
        c11.intoArray(lanes, 80);
        c12.intoArray(lanes, 96);
        c13.intoArray(lanes, 112);
        c20.intoArray(lanes, 128);
        c21.intoArray(lanes, 144);
        c22.intoArray(lanes, 160);
        c23.intoArray(lanes, 176);
        c30.intoArray(lanes, 192);
        c31.intoArray(lanes, 208);
        c32.intoArray(lanes, 224);
        c33.intoArray(lanes, 240);
        for (int i = 0; i < ROWS * TOKENS; i++) {
            sums[i] = Simd.sum16(lanes, 16 * i);
        }
        for (int k = vectors; k < n; k++) {
            for (int r = 0; r < ROWS; r++) {
                float wv = panel[r * stride + k];
                for (int t = 0; t < TOKENS; t++) {
                    sums[r * TOKENS + t] += wv * x[xOffset + t * xStride + k];
                }
            }
        }
    }
}
