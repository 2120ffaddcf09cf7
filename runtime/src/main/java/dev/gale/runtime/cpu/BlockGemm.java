package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * The batched product for Q8_0, Q4_0, F16 and BF16 weights: {@value #ROWS} weight rows, expanded to floats block
 * by block of 32 ({@link WeightKernel#toBlockPanel}), times tiles of {@value #TILE} tokens laid out by
 * {@link ActivationRows#prepareTiles}: a 16-lane vector holds one position of 16 tokens, so each weight value is
 * broadcast once and multiplied with 16 (or 32) tokens at a time, and the 12 × 16 (or 12 × 32) block sums stay in
 * registers.
 * <ol>
 *   <li>Each block of 32 gives the sum of its 32 products. For Q8_0 and Q4_0 weights (against Q8_0 activations)
 *       the products are integers and every partial sum is below 2^24, so the block sum is exact whatever the
 *       order;</li>
 *   <li>block {@code b} adds {@code sum × (weight scale × activation scale)} (scales of 1 for F16 and BF16) to the
 *       row and token's running sum with one fused multiply-add, block after block: in registers for a single tile,
 *       in a small array that stays in the first-level cache for a pair (24 running sums and 24 block sums do not
 *       fit the 32 vector registers together).</li>
 * </ol>
 * For Q8_0 and Q4_0 this is ggml's rounding up to the order of the float additions (ggml keeps 8 lanes of
 * 4-product sums, as the decode kernels {@link Q8_0Kernel#dot} and {@link Q4_0Kernel#dot} do); for F16 and BF16 the
 * order differs from the decode kernels' 16-lane chains. Every golden in ../shared/golden passes. A token's
 * result in a batch therefore agrees with its result alone to float rounding, not bit for bit (the decode kernels
 * cannot afford this order: it needs each block's sum across the lanes of a vector). Each result depends only on
 * its own weight row and token, never on the rest of the batch: a tile and a pair add in the same order. (F32
 * batches keep {@link FloatGemm}, bit for bit equal to the decode kernel.)
 */
final class BlockGemm {
    static final int BLOCK = 32;
    /** Weight rows of a panel. */
    static final int ROWS = 12;
    /** Tokens of an activation tile: the float lanes of a vector. */
    static final int TILE = 16;
    /** Floats of the running sums: ROWS rows × two tiles. */
    private static final int ACCUMULATOR_FLOATS = ROWS * 2 * TILE;
    /** Where the activation tiles and the running sums start in their arrays ({@link Simd#ALIGNED_FLOATS}). */
    private static final int A = Simd.ALIGNED_FLOATS;
    /**
     * Batches of at least this many tokens take the batched product; fewer run the decode kernel per token (a
     * 16-token tile is then mostly padding: 4 tokens of the 1B shape ran at 6.2–8.0 tok/s here against 10.8 per
     * token, 6 tokens at 11.0–12.4 against 10.0–11.1).
     */
    static final int MIN_TOKENS = 6;

    private BlockGemm() {}

    /**
     * Where block {@code b} of panel row {@code r} starts in a panel: blocks one after another, each with the 32
     * values of each of the {@value #ROWS} rows, from {@link Simd#ALIGNED_FLOATS} on.
     */
    static int at(int b, int r) {
        return A + (b * ROWS + r) * BLOCK;
    }

    /** The floats of a panel of rows {@code width} elements wide (a multiple of 32). */
    static int panelLength(int width) {
        return A + ROWS * width;
    }

    /** The length of the array of running sums that {@link #multiply} takes. */
    static int accumulatorLength() {
        return A + ACCUMULATOR_FLOATS;
    }

    /**
     * Completes row {@code r} of a panel of float weights whose {@code n} values are in place: zeros after them up
     * to a whole block, and unit block scales.
     */
    static void padRow(int n, float[] panel, float[] scales, int r) {
        int blocks = (n + BLOCK - 1) / BLOCK;
        if (n % BLOCK != 0) {
            int o = at(blocks - 1, r);
            Arrays.fill(panel, o + n % BLOCK, o + BLOCK, 0f);
        }
        for (int b = 0; b < blocks; b++) {
            scales[b * ROWS + r] = 1f;
        }
    }

    /**
     * Rows {@code [0, rows)} of the panel times tokens {@code [0, n)} of {@code x} (prepared with
     * {@link ActivationRows#prepareTiles}) into {@code out[t * outStride + outOffset + r]}; {@code acc} holds
     * {@link #accumulatorLength()} floats.
     */
    static void multiply(float[] panel, float[] scales, ActivationRows x, int rows, float[] acc, float[] out,
                         int outStride, int outOffset) {
        int n = x.rows();
        int width = x.blockWidth();
        int blocks = width / BLOCK;
        int tiles = (n + TILE - 1) / TILE;
        float[] xt = x.tiles;
        float[] xs = x.tileScales;
        for (int tile = 0; tile < tiles; tile += 2) {
            boolean pair = tile + 1 < tiles;
            if (pair) {
                tilePair(panel, scales, xt, A + tile * width * TILE, A + (tile + 1) * width * TILE, xs,
                        tile * blocks * TILE, (tile + 1) * blocks * TILE, acc, blocks);
            } else {
                tile(panel, scales, xt, A + tile * width * TILE, xs, tile * blocks * TILE, acc, blocks);
            }
            // token by token, so that each token's rows are written together: the tokens' outputs lie a whole
            // output row apart, often a multiple of 4 KB, the same first-level cache set
            for (int v = 0; v < (pair ? 2 : 1); v++) {
                int t0 = (tile + v) * TILE;
                int count = Math.min(TILE, n - t0);
                for (int l = 0; l < count; l++) {
                    int to = (t0 + l) * outStride + outOffset;
                    int o = A + v * TILE + l;
                    for (int r = 0; r < rows; r++) {
                        out[to + r] = acc[o + r * 2 * TILE];
                    }
                }
            }
        }
    }

    /*
     * The two tile kernels: 12 weight rows × 32 tokens (two tiles) and × 16 tokens. Per block, 24 (12) vectors of
     * block sums in registers; each weight value broadcast once; then one fused multiply-add per vector into the
     * running sums, kept in {@code c} for a pair and in 12 more registers for a tile, which end in {@code c}
     * (row r's tokens at {@code 32 r}, the pair's second tile at {@code 32 r + 16}). Written out in full: C2 keeps
     * the accumulators in registers only for straight-line code.
     */

    private static void tilePair(float[] w, float[] ws, float[] xt, int xa, int xb, float[] xs, int sa, int sb, float[] c, int blocks) {
        Arrays.fill(c, A, A + ACCUMULATOR_FLOATS, 0f);
        for (int b = 0; b < blocks; b++) {
            FloatVector a0a = FloatVector.zero(F); FloatVector a0b = FloatVector.zero(F);
            FloatVector a1a = FloatVector.zero(F); FloatVector a1b = FloatVector.zero(F);
            FloatVector a2a = FloatVector.zero(F); FloatVector a2b = FloatVector.zero(F);
            FloatVector a3a = FloatVector.zero(F); FloatVector a3b = FloatVector.zero(F);
            FloatVector a4a = FloatVector.zero(F); FloatVector a4b = FloatVector.zero(F);
            FloatVector a5a = FloatVector.zero(F); FloatVector a5b = FloatVector.zero(F);
            FloatVector a6a = FloatVector.zero(F); FloatVector a6b = FloatVector.zero(F);
            FloatVector a7a = FloatVector.zero(F); FloatVector a7b = FloatVector.zero(F);
            FloatVector a8a = FloatVector.zero(F); FloatVector a8b = FloatVector.zero(F);
            FloatVector a9a = FloatVector.zero(F); FloatVector a9b = FloatVector.zero(F);
            FloatVector a10a = FloatVector.zero(F); FloatVector a10b = FloatVector.zero(F);
            FloatVector a11a = FloatVector.zero(F); FloatVector a11b = FloatVector.zero(F);
            int p = at(b, 0);
            int qa = xa + b * BLOCK * TILE; int qb = xb + b * BLOCK * TILE;
            for (int k = 0; k < BLOCK; k += 2, p += 2, qa += 2 * TILE, qb += 2 * TILE) {
                FloatVector va = FloatVector.fromArray(F, xt, qa);
                FloatVector vb = FloatVector.fromArray(F, xt, qb);
                FloatVector w0 = FloatVector.broadcast(F, w[p]);
                a0a = w0.fma(va, a0a);
                a0b = w0.fma(vb, a0b);
                FloatVector w1 = FloatVector.broadcast(F, w[p + 32]);
                a1a = w1.fma(va, a1a);
                a1b = w1.fma(vb, a1b);
                FloatVector w2 = FloatVector.broadcast(F, w[p + 64]);
                a2a = w2.fma(va, a2a);
                a2b = w2.fma(vb, a2b);
                FloatVector w3 = FloatVector.broadcast(F, w[p + 96]);
                a3a = w3.fma(va, a3a);
                a3b = w3.fma(vb, a3b);
                FloatVector w4 = FloatVector.broadcast(F, w[p + 128]);
                a4a = w4.fma(va, a4a);
                a4b = w4.fma(vb, a4b);
                FloatVector w5 = FloatVector.broadcast(F, w[p + 160]);
                a5a = w5.fma(va, a5a);
                a5b = w5.fma(vb, a5b);
                FloatVector w6 = FloatVector.broadcast(F, w[p + 192]);
                a6a = w6.fma(va, a6a);
                a6b = w6.fma(vb, a6b);
                FloatVector w7 = FloatVector.broadcast(F, w[p + 224]);
                a7a = w7.fma(va, a7a);
                a7b = w7.fma(vb, a7b);
                FloatVector w8 = FloatVector.broadcast(F, w[p + 256]);
                a8a = w8.fma(va, a8a);
                a8b = w8.fma(vb, a8b);
                FloatVector w9 = FloatVector.broadcast(F, w[p + 288]);
                a9a = w9.fma(va, a9a);
                a9b = w9.fma(vb, a9b);
                FloatVector w10 = FloatVector.broadcast(F, w[p + 320]);
                a10a = w10.fma(va, a10a);
                a10b = w10.fma(vb, a10b);
                FloatVector w11 = FloatVector.broadcast(F, w[p + 352]);
                a11a = w11.fma(va, a11a);
                a11b = w11.fma(vb, a11b);
                va = FloatVector.fromArray(F, xt, qa + TILE);
                vb = FloatVector.fromArray(F, xt, qb + TILE);
                w0 = FloatVector.broadcast(F, w[p + 1]);
                a0a = w0.fma(va, a0a);
                a0b = w0.fma(vb, a0b);
                w1 = FloatVector.broadcast(F, w[p + 33]);
                a1a = w1.fma(va, a1a);
                a1b = w1.fma(vb, a1b);
                w2 = FloatVector.broadcast(F, w[p + 65]);
                a2a = w2.fma(va, a2a);
                a2b = w2.fma(vb, a2b);
                w3 = FloatVector.broadcast(F, w[p + 97]);
                a3a = w3.fma(va, a3a);
                a3b = w3.fma(vb, a3b);
                w4 = FloatVector.broadcast(F, w[p + 129]);
                a4a = w4.fma(va, a4a);
                a4b = w4.fma(vb, a4b);
                w5 = FloatVector.broadcast(F, w[p + 161]);
                a5a = w5.fma(va, a5a);
                a5b = w5.fma(vb, a5b);
                w6 = FloatVector.broadcast(F, w[p + 193]);
                a6a = w6.fma(va, a6a);
                a6b = w6.fma(vb, a6b);
                w7 = FloatVector.broadcast(F, w[p + 225]);
                a7a = w7.fma(va, a7a);
                a7b = w7.fma(vb, a7b);
                w8 = FloatVector.broadcast(F, w[p + 257]);
                a8a = w8.fma(va, a8a);
                a8b = w8.fma(vb, a8b);
                w9 = FloatVector.broadcast(F, w[p + 289]);
                a9a = w9.fma(va, a9a);
                a9b = w9.fma(vb, a9b);
                w10 = FloatVector.broadcast(F, w[p + 321]);
                a10a = w10.fma(va, a10a);
                a10b = w10.fma(vb, a10b);
                w11 = FloatVector.broadcast(F, w[p + 353]);
                a11a = w11.fma(va, a11a);
                a11b = w11.fma(vb, a11b);
            }
            FloatVector sa0 = FloatVector.fromArray(F, xs, sa + b * TILE);
            FloatVector sb0 = FloatVector.fromArray(F, xs, sb + b * TILE);
            int d = b * ROWS;
            a0a.fma(sa0.mul(ws[d]), FloatVector.fromArray(F, c, A)).intoArray(c, A);
            a0b.fma(sb0.mul(ws[d]), FloatVector.fromArray(F, c, A + TILE)).intoArray(c, A + TILE);
            a1a.fma(sa0.mul(ws[d + 1]), FloatVector.fromArray(F, c, A + 32)).intoArray(c, A + 32);
            a1b.fma(sb0.mul(ws[d + 1]), FloatVector.fromArray(F, c, A + 32 + TILE)).intoArray(c, A + 32 + TILE);
            a2a.fma(sa0.mul(ws[d + 2]), FloatVector.fromArray(F, c, A + 64)).intoArray(c, A + 64);
            a2b.fma(sb0.mul(ws[d + 2]), FloatVector.fromArray(F, c, A + 64 + TILE)).intoArray(c, A + 64 + TILE);
            a3a.fma(sa0.mul(ws[d + 3]), FloatVector.fromArray(F, c, A + 96)).intoArray(c, A + 96);
            a3b.fma(sb0.mul(ws[d + 3]), FloatVector.fromArray(F, c, A + 96 + TILE)).intoArray(c, A + 96 + TILE);
            a4a.fma(sa0.mul(ws[d + 4]), FloatVector.fromArray(F, c, A + 128)).intoArray(c, A + 128);
            a4b.fma(sb0.mul(ws[d + 4]), FloatVector.fromArray(F, c, A + 128 + TILE)).intoArray(c, A + 128 + TILE);
            a5a.fma(sa0.mul(ws[d + 5]), FloatVector.fromArray(F, c, A + 160)).intoArray(c, A + 160);
            a5b.fma(sb0.mul(ws[d + 5]), FloatVector.fromArray(F, c, A + 160 + TILE)).intoArray(c, A + 160 + TILE);
            a6a.fma(sa0.mul(ws[d + 6]), FloatVector.fromArray(F, c, A + 192)).intoArray(c, A + 192);
            a6b.fma(sb0.mul(ws[d + 6]), FloatVector.fromArray(F, c, A + 192 + TILE)).intoArray(c, A + 192 + TILE);
            a7a.fma(sa0.mul(ws[d + 7]), FloatVector.fromArray(F, c, A + 224)).intoArray(c, A + 224);
            a7b.fma(sb0.mul(ws[d + 7]), FloatVector.fromArray(F, c, A + 224 + TILE)).intoArray(c, A + 224 + TILE);
            a8a.fma(sa0.mul(ws[d + 8]), FloatVector.fromArray(F, c, A + 256)).intoArray(c, A + 256);
            a8b.fma(sb0.mul(ws[d + 8]), FloatVector.fromArray(F, c, A + 256 + TILE)).intoArray(c, A + 256 + TILE);
            a9a.fma(sa0.mul(ws[d + 9]), FloatVector.fromArray(F, c, A + 288)).intoArray(c, A + 288);
            a9b.fma(sb0.mul(ws[d + 9]), FloatVector.fromArray(F, c, A + 288 + TILE)).intoArray(c, A + 288 + TILE);
            a10a.fma(sa0.mul(ws[d + 10]), FloatVector.fromArray(F, c, A + 320)).intoArray(c, A + 320);
            a10b.fma(sb0.mul(ws[d + 10]), FloatVector.fromArray(F, c, A + 320 + TILE)).intoArray(c, A + 320 + TILE);
            a11a.fma(sa0.mul(ws[d + 11]), FloatVector.fromArray(F, c, A + 352)).intoArray(c, A + 352);
            a11b.fma(sb0.mul(ws[d + 11]), FloatVector.fromArray(F, c, A + 352 + TILE)).intoArray(c, A + 352 + TILE);
        }
    }

    private static void tile(float[] w, float[] ws, float[] xt, int xa, float[] xs, int sa, float[] c, int blocks) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector s4 = s0;
        FloatVector s5 = s0;
        FloatVector s6 = s0;
        FloatVector s7 = s0;
        FloatVector s8 = s0;
        FloatVector s9 = s0;
        FloatVector s10 = s0;
        FloatVector s11 = s0;
        for (int b = 0; b < blocks; b++) {
            FloatVector a0a = FloatVector.zero(F);
            FloatVector a1a = FloatVector.zero(F);
            FloatVector a2a = FloatVector.zero(F);
            FloatVector a3a = FloatVector.zero(F);
            FloatVector a4a = FloatVector.zero(F);
            FloatVector a5a = FloatVector.zero(F);
            FloatVector a6a = FloatVector.zero(F);
            FloatVector a7a = FloatVector.zero(F);
            FloatVector a8a = FloatVector.zero(F);
            FloatVector a9a = FloatVector.zero(F);
            FloatVector a10a = FloatVector.zero(F);
            FloatVector a11a = FloatVector.zero(F);
            int p = at(b, 0);
            int qa = xa + b * BLOCK * TILE;
            for (int k = 0; k < BLOCK; k += 2, p += 2, qa += 2 * TILE) {
                FloatVector va = FloatVector.fromArray(F, xt, qa);
                a0a = FloatVector.broadcast(F, w[p]).fma(va, a0a);
                a1a = FloatVector.broadcast(F, w[p + 32]).fma(va, a1a);
                a2a = FloatVector.broadcast(F, w[p + 64]).fma(va, a2a);
                a3a = FloatVector.broadcast(F, w[p + 96]).fma(va, a3a);
                a4a = FloatVector.broadcast(F, w[p + 128]).fma(va, a4a);
                a5a = FloatVector.broadcast(F, w[p + 160]).fma(va, a5a);
                a6a = FloatVector.broadcast(F, w[p + 192]).fma(va, a6a);
                a7a = FloatVector.broadcast(F, w[p + 224]).fma(va, a7a);
                a8a = FloatVector.broadcast(F, w[p + 256]).fma(va, a8a);
                a9a = FloatVector.broadcast(F, w[p + 288]).fma(va, a9a);
                a10a = FloatVector.broadcast(F, w[p + 320]).fma(va, a10a);
                a11a = FloatVector.broadcast(F, w[p + 352]).fma(va, a11a);
                va = FloatVector.fromArray(F, xt, qa + TILE);
                a0a = FloatVector.broadcast(F, w[p + 1]).fma(va, a0a);
                a1a = FloatVector.broadcast(F, w[p + 33]).fma(va, a1a);
                a2a = FloatVector.broadcast(F, w[p + 65]).fma(va, a2a);
                a3a = FloatVector.broadcast(F, w[p + 97]).fma(va, a3a);
                a4a = FloatVector.broadcast(F, w[p + 129]).fma(va, a4a);
                a5a = FloatVector.broadcast(F, w[p + 161]).fma(va, a5a);
                a6a = FloatVector.broadcast(F, w[p + 193]).fma(va, a6a);
                a7a = FloatVector.broadcast(F, w[p + 225]).fma(va, a7a);
                a8a = FloatVector.broadcast(F, w[p + 257]).fma(va, a8a);
                a9a = FloatVector.broadcast(F, w[p + 289]).fma(va, a9a);
                a10a = FloatVector.broadcast(F, w[p + 321]).fma(va, a10a);
                a11a = FloatVector.broadcast(F, w[p + 353]).fma(va, a11a);
            }
            FloatVector sa0 = FloatVector.fromArray(F, xs, sa + b * TILE);
            int d = b * ROWS;
            s0 = a0a.fma(sa0.mul(ws[d]), s0);
            s1 = a1a.fma(sa0.mul(ws[d + 1]), s1);
            s2 = a2a.fma(sa0.mul(ws[d + 2]), s2);
            s3 = a3a.fma(sa0.mul(ws[d + 3]), s3);
            s4 = a4a.fma(sa0.mul(ws[d + 4]), s4);
            s5 = a5a.fma(sa0.mul(ws[d + 5]), s5);
            s6 = a6a.fma(sa0.mul(ws[d + 6]), s6);
            s7 = a7a.fma(sa0.mul(ws[d + 7]), s7);
            s8 = a8a.fma(sa0.mul(ws[d + 8]), s8);
            s9 = a9a.fma(sa0.mul(ws[d + 9]), s9);
            s10 = a10a.fma(sa0.mul(ws[d + 10]), s10);
            s11 = a11a.fma(sa0.mul(ws[d + 11]), s11);
        }
        s0.intoArray(c, A);
        s1.intoArray(c, A + 32);
        s2.intoArray(c, A + 64);
        s3.intoArray(c, A + 96);
        s4.intoArray(c, A + 128);
        s5.intoArray(c, A + 160);
        s6.intoArray(c, A + 192);
        s7.intoArray(c, A + 224);
        s8.intoArray(c, A + 256);
        s9.intoArray(c, A + 288);
        s10.intoArray(c, A + 320);
        s11.intoArray(c, A + 352);
    }
}
