package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The batched product for Q8_0, Q4_0, F16, BF16 and the repacked k-quant weights: {@value #ROWS} weight rows,
 * expanded to their float values block by block of 32 ({@link WeightKernel#toBlockPanel}: each quant times its
 * block's scale, exact for Q8_0 and Q4_0), times tiles of {@value #TILE} tokens laid out by
 * {@link ActivationRows#prepareTiles} (the Q8_0 activations' values, scale times quant, or the F16 / BF16-rounded
 * values): a 16-lane vector holds one position of 16 tokens, so each weight value is broadcast once and multiplied
 * with 16 (or 32) tokens at a time, and the 12 × 16 (or 12 × 32) sums stay in registers from the row's first
 * position to its last.
 * <p>
 * A batch of one tile (6 to 16 tokens: a server's decode steps) takes {@link #tileOfPairs} instead, on a panel of
 * pairs (two floats to a long) and activations laid out two positions at a time, so that one 64-bit broadcast
 * serves two vectors (about 24 % fewer instructions than the single float tile): a 16-token Q8_0 prompt of the 1B
 * shape went 45.7 / 45.5 → 50.7 / 51.1 tok/s and 16 server streams 36.5 → 42.3 tok/s (alternating builds).
 * <p>
 * Every product is ggml's (a weight's value times an activation's); the sums are rounded in float as they go,
 * position after position, where ggml forms each block's exact integer sum first and scales it. The difference is
 * float rounding (the decode kernels' float form, {@link Q8_0Kernel#dotWide}, does the same); every golden in
 * ../shared/golden passes. A token's result in a batch agrees with its result alone to float rounding, not bit for
 * bit, and depends only on its own weight row and token and on whether its batch is one tile (the tile of pairs
 * adds even and odd positions apart), never on the other tokens: a single float tile and a pair add in the same
 * order. (F32 batches keep {@link FloatGemm}, bit for bit equal to the decode kernel.) Before, each block's
 * sum was scaled into a running sum block after block, an epilogue of a tenth of the pair's instructions that
 * also kept the pair's running sums out of registers; without it the pair of tiles ran 82–90 → 93–118 GFLOP/s and
 * the single tile 70–74 → 75–86 (one thread, 12 rows × 2048, panel in cache, alternated in one process).
 */
final class BlockGemm {
    static final int BLOCK = 32;
    /** Weight rows of a panel. */
    static final int ROWS = 12;
    /** Tokens of an activation tile: a vector's float lanes (two positions of 8 tokens in a tile of pairs). */
    static final int TILE = 16;
    /** Floats of the sums: ROWS rows × two tiles. */
    private static final int ACCUMULATOR_FLOATS = ROWS * 2 * TILE;
    /** Where the activation tiles and the sums start in their arrays ({@link Simd#ALIGNED_FLOATS}). */
    private static final int A = Simd.ALIGNED_FLOATS;
    /** Where a panel of pairs starts in its array ({@link Simd#ALIGNED_LONGS}). */
    private static final int AL = Simd.ALIGNED_LONGS;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_512;
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

    /**
     * Whether a batch of {@code tokens} is multiplied as one tile of pairs ({@link #tileOfPairs}): then the panel
     * holds its floats two to a long ({@link #pairAt}) and the activations are laid out two positions at a time
     * ({@link ActivationRows#tiles}).
     */
    static boolean onePairedTile(int tokens) {
        return tokens <= TILE;
    }

    /**
     * Where block {@code b} of panel row {@code r} starts in a panel of pairs (a {@code long[]}, the lower float of
     * each long first): the layout of {@link #at}, two floats to a long, from {@link Simd#ALIGNED_LONGS} on.
     */
    static int pairAt(int b, int r) {
        return AL + (b * ROWS + r) * (BLOCK / 2);
    }

    /** The longs of a panel of pairs of rows {@code width} elements wide (a multiple of 32). */
    static int pairPanelLength(int width) {
        return AL + ROWS * width / 2;
    }

    /** Sets float {@code k} (0 to 31) of block {@code b} of row {@code r} in {@code pairs} if not null, else in {@code panel}. */
    static void put(float[] panel, long[] pairs, int b, int r, int k, float v) {
        if (pairs == null) {
            panel[at(b, r) + k] = v;
            return;
        }
        int i = pairAt(b, r) + k / 2;
        int shift = 32 * (k & 1);
        pairs[i] = pairs[i] & ~(0xFFFFFFFFL << shift) | (Float.floatToRawIntBits(v) & 0xFFFFFFFFL) << shift;
    }

    /** The length of the array of sums that {@link #multiply} takes. */
    static int accumulatorLength() {
        return A + ACCUMULATOR_FLOATS;
    }

    /**
     * Completes row {@code r} of a panel of float weights whose {@code n} values are in place: zeros after them up
     * to a whole block.
     */
    static void padRow(int n, float[] panel, long[] pairs, int r) {
        if (n % BLOCK != 0) {
            for (int k = n % BLOCK; k < BLOCK; k++) {
                put(panel, pairs, n / BLOCK, r, k, 0f);
            }
        }
    }

    /**
     * Rows {@code [0, rows)} of the panel times tokens {@code [0, n)} of {@code x} (prepared with
     * {@link ActivationRows#prepareTiles}) into {@code out[t * outStride + outOffset + r]}; {@code acc} holds
     * {@link #accumulatorLength()} floats.
     */
    static void multiply(float[] panel, long[] pairs, ActivationRows x, int rows, float[] acc, float[] out,
                         int outStride, int outOffset) {
        int n = x.rows();
        int width = x.blockWidth();
        int blocks = width / BLOCK;
        int tiles = (n + TILE - 1) / TILE;
        float[] xt = x.tiles;
        if (pairs != null) {
            tileOfPairs(pairs, xt, A, acc, blocks);
            for (int l = 0; l < n; l++) {
                int to = l * outStride + outOffset;
                int o = A + l / 8 * 16 + l % 8 * 2;
                for (int r = 0; r < rows; r++) {
                    out[to + r] = acc[o + r * 2 * TILE] + acc[o + r * 2 * TILE + 1];
                }
            }
            return;
        }
        for (int tile = 0; tile < tiles; tile += 2) {
            boolean pair = tile + 1 < tiles;
            if (pair) {
                tilePair(panel, xt, A + tile * width * TILE, A + (tile + 1) * width * TILE, acc, blocks);
            } else {
                tile(panel, xt, A + tile * width * TILE, acc, blocks);
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
     * The two tile kernels: 12 weight rows × 32 tokens (two tiles) and × 16 tokens. Each weight value is broadcast
     * once and multiplied with 16 (or 32) tokens into 12 (or 24) vectors of sums that stay in registers from the
     * first block to the last, then end in {@code c} (row r's tokens at {@code 32 r}, the pair's second tile at
     * {@code 32 r + 16}). Written out in full: C2 keeps the accumulators in registers only for straight-line code.
     */

    private static void tilePair(float[] w, float[] xt, int xa, int xb, float[] c, int blocks) {
        FloatVector a0a = FloatVector.zero(F);
        FloatVector a0b = a0a;
        FloatVector a1a = FloatVector.zero(F);
        FloatVector a1b = a1a;
        FloatVector a2a = FloatVector.zero(F);
        FloatVector a2b = a2a;
        FloatVector a3a = FloatVector.zero(F);
        FloatVector a3b = a3a;
        FloatVector a4a = FloatVector.zero(F);
        FloatVector a4b = a4a;
        FloatVector a5a = FloatVector.zero(F);
        FloatVector a5b = a5a;
        FloatVector a6a = FloatVector.zero(F);
        FloatVector a6b = a6a;
        FloatVector a7a = FloatVector.zero(F);
        FloatVector a7b = a7a;
        FloatVector a8a = FloatVector.zero(F);
        FloatVector a8b = a8a;
        FloatVector a9a = FloatVector.zero(F);
        FloatVector a9b = a9a;
        FloatVector a10a = FloatVector.zero(F);
        FloatVector a10b = a10a;
        FloatVector a11a = FloatVector.zero(F);
        FloatVector a11b = a11a;
        for (int b = 0; b < blocks; b++) {
            int p = at(b, 0);
            int qa = xa + b * BLOCK * TILE;
            int qb = xb + b * BLOCK * TILE;
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
        }
        a0a.intoArray(c, A);
        a0b.intoArray(c, A + TILE);
        a1a.intoArray(c, A + 32);
        a1b.intoArray(c, A + 32 + TILE);
        a2a.intoArray(c, A + 64);
        a2b.intoArray(c, A + 64 + TILE);
        a3a.intoArray(c, A + 96);
        a3b.intoArray(c, A + 96 + TILE);
        a4a.intoArray(c, A + 128);
        a4b.intoArray(c, A + 128 + TILE);
        a5a.intoArray(c, A + 160);
        a5b.intoArray(c, A + 160 + TILE);
        a6a.intoArray(c, A + 192);
        a6b.intoArray(c, A + 192 + TILE);
        a7a.intoArray(c, A + 224);
        a7b.intoArray(c, A + 224 + TILE);
        a8a.intoArray(c, A + 256);
        a8b.intoArray(c, A + 256 + TILE);
        a9a.intoArray(c, A + 288);
        a9b.intoArray(c, A + 288 + TILE);
        a10a.intoArray(c, A + 320);
        a10b.intoArray(c, A + 320 + TILE);
        a11a.intoArray(c, A + 352);
        a11b.intoArray(c, A + 352 + TILE);
    }

    private static void tile(float[] w, float[] xt, int xa, float[] c, int blocks) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        FloatVector a8 = a0;
        FloatVector a9 = a0;
        FloatVector a10 = a0;
        FloatVector a11 = a0;
        for (int b = 0; b < blocks; b++) {
            int p = at(b, 0);
            int qa = xa + b * BLOCK * TILE;
            for (int k = 0; k < BLOCK; k += 2, p += 2, qa += 2 * TILE) {
                FloatVector va = FloatVector.fromArray(F, xt, qa);
                a0 = FloatVector.broadcast(F, w[p]).fma(va, a0);
                a1 = FloatVector.broadcast(F, w[p + 32]).fma(va, a1);
                a2 = FloatVector.broadcast(F, w[p + 64]).fma(va, a2);
                a3 = FloatVector.broadcast(F, w[p + 96]).fma(va, a3);
                a4 = FloatVector.broadcast(F, w[p + 128]).fma(va, a4);
                a5 = FloatVector.broadcast(F, w[p + 160]).fma(va, a5);
                a6 = FloatVector.broadcast(F, w[p + 192]).fma(va, a6);
                a7 = FloatVector.broadcast(F, w[p + 224]).fma(va, a7);
                a8 = FloatVector.broadcast(F, w[p + 256]).fma(va, a8);
                a9 = FloatVector.broadcast(F, w[p + 288]).fma(va, a9);
                a10 = FloatVector.broadcast(F, w[p + 320]).fma(va, a10);
                a11 = FloatVector.broadcast(F, w[p + 352]).fma(va, a11);
                va = FloatVector.fromArray(F, xt, qa + TILE);
                a0 = FloatVector.broadcast(F, w[p + 1]).fma(va, a0);
                a1 = FloatVector.broadcast(F, w[p + 33]).fma(va, a1);
                a2 = FloatVector.broadcast(F, w[p + 65]).fma(va, a2);
                a3 = FloatVector.broadcast(F, w[p + 97]).fma(va, a3);
                a4 = FloatVector.broadcast(F, w[p + 129]).fma(va, a4);
                a5 = FloatVector.broadcast(F, w[p + 161]).fma(va, a5);
                a6 = FloatVector.broadcast(F, w[p + 193]).fma(va, a6);
                a7 = FloatVector.broadcast(F, w[p + 225]).fma(va, a7);
                a8 = FloatVector.broadcast(F, w[p + 257]).fma(va, a8);
                a9 = FloatVector.broadcast(F, w[p + 289]).fma(va, a9);
                a10 = FloatVector.broadcast(F, w[p + 321]).fma(va, a10);
                a11 = FloatVector.broadcast(F, w[p + 353]).fma(va, a11);
            }
        }
        a0.intoArray(c, A);
        a1.intoArray(c, A + 32);
        a2.intoArray(c, A + 64);
        a3.intoArray(c, A + 96);
        a4.intoArray(c, A + 128);
        a5.intoArray(c, A + 160);
        a6.intoArray(c, A + 192);
        a7.intoArray(c, A + 224);
        a8.intoArray(c, A + 256);
        a9.intoArray(c, A + 288);
        a10.intoArray(c, A + 320);
        a11.intoArray(c, A + 352);
    }

    /**
     * 12 weight rows × one tile of 16 tokens, two positions at a time: a vector holds two neighbouring positions of
     * 8 tokens (token l's even position in lane 2l, its odd one in lane 2l + 1; tokens 0–7 in one vector, 8–15 in the
     * next, {@link ActivationRows#tiles}) and is multiplied with the same two positions of one weight row, broadcast
     * as a pair by one 64-bit load from the panel of pairs. So each broadcast serves two vectors, as in the pair of
     * tiles, where the single tile above needs one broadcast per vector (each instruction's worth of work: 16
     * products). The 24 vectors of sums (each token's even and odd positions apart) stay in registers from the row's
     * first position to its last, then end in {@code c} (row r at {@code 32 r}: tokens 0–7, then 8–15), where
     * {@link #multiply} adds each token's two lanes.
     */
    private static void tileOfPairs(long[] w, float[] xt, int xa, float[] c, int blocks) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector b0 = a0;
        FloatVector a1 = a0;
        FloatVector b1 = a0;
        FloatVector a2 = a0;
        FloatVector b2 = a0;
        FloatVector a3 = a0;
        FloatVector b3 = a0;
        FloatVector a4 = a0;
        FloatVector b4 = a0;
        FloatVector a5 = a0;
        FloatVector b5 = a0;
        FloatVector a6 = a0;
        FloatVector b6 = a0;
        FloatVector a7 = a0;
        FloatVector b7 = a0;
        FloatVector a8 = a0;
        FloatVector b8 = a0;
        FloatVector a9 = a0;
        FloatVector b9 = a0;
        FloatVector a10 = a0;
        FloatVector b10 = a0;
        FloatVector a11 = a0;
        FloatVector b11 = a0;
        for (int b = 0; b < blocks; b++) {
            int p = pairAt(b, 0);
            int q = xa + b * BLOCK * TILE;
            for (int k = 0; k < BLOCK / 2; k++, p++, q += 2 * TILE) {
                FloatVector va = FloatVector.fromArray(F, xt, q);
                FloatVector vb = FloatVector.fromArray(F, xt, q + TILE);
                FloatVector w0 = LongVector.broadcast(L, w[p]).reinterpretAsFloats();
                a0 = w0.fma(va, a0);
                b0 = w0.fma(vb, b0);
                FloatVector w1 = LongVector.broadcast(L, w[p + 16]).reinterpretAsFloats();
                a1 = w1.fma(va, a1);
                b1 = w1.fma(vb, b1);
                FloatVector w2 = LongVector.broadcast(L, w[p + 32]).reinterpretAsFloats();
                a2 = w2.fma(va, a2);
                b2 = w2.fma(vb, b2);
                FloatVector w3 = LongVector.broadcast(L, w[p + 48]).reinterpretAsFloats();
                a3 = w3.fma(va, a3);
                b3 = w3.fma(vb, b3);
                FloatVector w4 = LongVector.broadcast(L, w[p + 64]).reinterpretAsFloats();
                a4 = w4.fma(va, a4);
                b4 = w4.fma(vb, b4);
                FloatVector w5 = LongVector.broadcast(L, w[p + 80]).reinterpretAsFloats();
                a5 = w5.fma(va, a5);
                b5 = w5.fma(vb, b5);
                FloatVector w6 = LongVector.broadcast(L, w[p + 96]).reinterpretAsFloats();
                a6 = w6.fma(va, a6);
                b6 = w6.fma(vb, b6);
                FloatVector w7 = LongVector.broadcast(L, w[p + 112]).reinterpretAsFloats();
                a7 = w7.fma(va, a7);
                b7 = w7.fma(vb, b7);
                FloatVector w8 = LongVector.broadcast(L, w[p + 128]).reinterpretAsFloats();
                a8 = w8.fma(va, a8);
                b8 = w8.fma(vb, b8);
                FloatVector w9 = LongVector.broadcast(L, w[p + 144]).reinterpretAsFloats();
                a9 = w9.fma(va, a9);
                b9 = w9.fma(vb, b9);
                FloatVector w10 = LongVector.broadcast(L, w[p + 160]).reinterpretAsFloats();
                a10 = w10.fma(va, a10);
                b10 = w10.fma(vb, b10);
                FloatVector w11 = LongVector.broadcast(L, w[p + 176]).reinterpretAsFloats();
                a11 = w11.fma(va, a11);
                b11 = w11.fma(vb, b11);
            }
        }
        a0.intoArray(c, A);
        b0.intoArray(c, A + TILE);
        a1.intoArray(c, A + 32);
        b1.intoArray(c, A + 32 + TILE);
        a2.intoArray(c, A + 64);
        b2.intoArray(c, A + 64 + TILE);
        a3.intoArray(c, A + 96);
        b3.intoArray(c, A + 96 + TILE);
        a4.intoArray(c, A + 128);
        b4.intoArray(c, A + 128 + TILE);
        a5.intoArray(c, A + 160);
        b5.intoArray(c, A + 160 + TILE);
        a6.intoArray(c, A + 192);
        b6.intoArray(c, A + 192 + TILE);
        a7.intoArray(c, A + 224);
        b7.intoArray(c, A + 224 + TILE);
        a8.intoArray(c, A + 256);
        b8.intoArray(c, A + 256 + TILE);
        a9.intoArray(c, A + 288);
        b9.intoArray(c, A + 288 + TILE);
        a10.intoArray(c, A + 320);
        b10.intoArray(c, A + 320 + TILE);
        a11.intoArray(c, A + 352);
        b11.intoArray(c, A + 352 + TILE);
    }
}
