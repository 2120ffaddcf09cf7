package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * The batched path's inner kernel for Q8_0 and Q4_0 weights, with ggml's arithmetic: per block of 32, each of 8
 * lanes sums 4 products of integer quants exactly, and is then multiplied by the product of the two block scales
 * and added to the lane's accumulator (one fused multiply-add per block); the 8 lanes are summed as a halving tree.
 *
 * <p>Panel layout per weight row: for each block, 4 vectors of 16 floats, vector q holding quant {@code 4i + q}
 * (i = 0..7) twice (lanes 0..7 and 8..15); then the row's block scales. Against the activations' matching layout
 * ({@link ActivationRows#q8Lanes}), one 16-lane vector serves two tokens: lanes 0..7 the pair's first, 8..15 its
 * second.
 */
final class Q0Gemm {
    static final int BLOCK = 32;
    /** Floats of one block in the panel. */
    static final int PANEL_BLOCK = 64;
    /**
     * Shuffles of (elements 0..15, elements 16..31) of a block, for the two-vector {@code rearrange}: vector q of a
     * panel block holds quant 4i + q in lane i and lane 8 + i. (Constant shuffles; an index vector would be
     * converted and range-checked on every use.)
     */
    static final VectorShuffle<Float> LANE_0 = laneShuffle(0);
    static final VectorShuffle<Float> LANE_1 = laneShuffle(1);
    static final VectorShuffle<Float> LANE_2 = laneShuffle(2);
    static final VectorShuffle<Float> LANE_3 = laneShuffle(3);

    private Q0Gemm() {}

    static int panelStride(int n) {
        int blocks = n / BLOCK;
        return blocks * PANEL_BLOCK + blocks;
    }

    private static VectorShuffle<Float> laneShuffle(int q) {
        int[] idx = new int[16];
        for (int i = 0; i < 8; i++) {
            idx[i] = 4 * i + q;
            idx[8 + i] = 4 * i + q;
        }
        // indexes 16..31 select from the second vector of the rearrange
        return VectorShuffle.fromArray(F, idx, 0);
    }

    /**
     * The {@link WeightKernel#panelTile} of the Q8_0 and Q4_0 kernels: the panel's 4 rows against token pairs
     * {@code t0 / 2} and {@code t0 / 2 + 1}, with the 8 accumulators and the pairs' activations in registers.
     */
    static void tile(float[] p, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        int blocks = x.width() / BLOCK;
        float[] xl = x.q8Lanes;
        float[] xs = x.q8LaneScales;
        int pair = t0 / 2;
        int r1 = stride;
        int r2 = 2 * stride;
        int r3 = 3 * stride;
        int scales = blocks * PANEL_BLOCK;
        int a0 = pair * blocks * PANEL_BLOCK;
        int a1 = a0 + blocks * PANEL_BLOCK;
        int d0 = pair * blocks * 16;
        int d1 = d0 + blocks * 16;
        FloatVector c00 = FloatVector.zero(F);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        for (int b = 0; b < blocks; b++) {
            int o = b * PANEL_BLOCK;
            FloatVector x00 = FloatVector.fromArray(F, xl, a0 + o);
            FloatVector x01 = FloatVector.fromArray(F, xl, a0 + o + 16);
            FloatVector x02 = FloatVector.fromArray(F, xl, a0 + o + 32);
            FloatVector x03 = FloatVector.fromArray(F, xl, a0 + o + 48);
            FloatVector x10 = FloatVector.fromArray(F, xl, a1 + o);
            FloatVector x11 = FloatVector.fromArray(F, xl, a1 + o + 16);
            FloatVector x12 = FloatVector.fromArray(F, xl, a1 + o + 32);
            FloatVector x13 = FloatVector.fromArray(F, xl, a1 + o + 48);
            FloatVector dx0 = FloatVector.fromArray(F, xs, d0 + 16 * b);
            FloatVector dx1 = FloatVector.fromArray(F, xs, d1 + 16 * b);
            // per row: the exact 4-product sums of each lane (small integers, so no rounding), then one fused
            // multiply-add with the product of the block scales
            FloatVector w0 = FloatVector.fromArray(F, p, o);
            FloatVector w1 = FloatVector.fromArray(F, p, o + 16);
            FloatVector w2 = FloatVector.fromArray(F, p, o + 32);
            FloatVector w3 = FloatVector.fromArray(F, p, o + 48);
            float dw = p[scales + b];
            c00 = w3.fma(x03, w2.fma(x02, w1.fma(x01, w0.mul(x00)))).fma(dx0.mul(dw), c00);
            c01 = w3.fma(x13, w2.fma(x12, w1.fma(x11, w0.mul(x10)))).fma(dx1.mul(dw), c01);
            w0 = FloatVector.fromArray(F, p, r1 + o);
            w1 = FloatVector.fromArray(F, p, r1 + o + 16);
            w2 = FloatVector.fromArray(F, p, r1 + o + 32);
            w3 = FloatVector.fromArray(F, p, r1 + o + 48);
            dw = p[r1 + scales + b];
            c10 = w3.fma(x03, w2.fma(x02, w1.fma(x01, w0.mul(x00)))).fma(dx0.mul(dw), c10);
            c11 = w3.fma(x13, w2.fma(x12, w1.fma(x11, w0.mul(x10)))).fma(dx1.mul(dw), c11);
            w0 = FloatVector.fromArray(F, p, r2 + o);
            w1 = FloatVector.fromArray(F, p, r2 + o + 16);
            w2 = FloatVector.fromArray(F, p, r2 + o + 32);
            w3 = FloatVector.fromArray(F, p, r2 + o + 48);
            dw = p[r2 + scales + b];
            c20 = w3.fma(x03, w2.fma(x02, w1.fma(x01, w0.mul(x00)))).fma(dx0.mul(dw), c20);
            c21 = w3.fma(x13, w2.fma(x12, w1.fma(x11, w0.mul(x10)))).fma(dx1.mul(dw), c21);
            w0 = FloatVector.fromArray(F, p, r3 + o);
            w1 = FloatVector.fromArray(F, p, r3 + o + 16);
            w2 = FloatVector.fromArray(F, p, r3 + o + 32);
            w3 = FloatVector.fromArray(F, p, r3 + o + 48);
            dw = p[r3 + scales + b];
            c30 = w3.fma(x03, w2.fma(x02, w1.fma(x01, w0.mul(x00)))).fma(dx0.mul(dw), c30);
            c31 = w3.fma(x13, w2.fma(x12, w1.fma(x11, w0.mul(x10)))).fma(dx1.mul(dw), c31);
        }
        c00.intoArray(lanes, 0);
        c01.intoArray(lanes, 16);
        c10.intoArray(lanes, 32);
        c11.intoArray(lanes, 48);
        c20.intoArray(lanes, 64);
        c21.intoArray(lanes, 80);
        c30.intoArray(lanes, 96);
        c31.intoArray(lanes, 112);
        // row r, token t: lanes 0..7 of a vector are the pair's first token, 8..15 its second
        for (int i = 0; i < FloatGemm.ROWS * FloatGemm.TOKENS; i++) {
            sums[i] = Simd.sum8(lanes, 8 * i);
        }
    }
}
