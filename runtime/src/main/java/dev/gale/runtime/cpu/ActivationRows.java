package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Float16;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * A batch of activation rows ({@code n × width} floats) plus the forms the weight kernels read. This mirrors ggml,
 * which converts a matmul's input to the weight type's "vec-dot type" first, so results match llama.cpp closely:
 * <ul>
 *   <li>F16 / BF16 weights: the input rounded to fp16 / bf16 ({@link #rounded});</li>
 *   <li>Q8_0 / Q4_0 weights: the input quantized to Q8_0 blocks of 32 ({@link #q8}, {@link #q8Scale});</li>
 *   <li>k-quant weights: the input quantized to Q8_K blocks of 256 ({@link #qkValues}).</li>
 * </ul>
 * For {@link BlockGemm}'s batched product, the form is also transposed into tiles of 16 tokens ({@link #tiles}).
 * A form is computed at most once per {@link #set} and shared by every matrix
 * that reads the same input; arrays are allocated on first use, so a model only pays for the forms it needs.
 *
 * <p>Arrays hold {@link #paddedRows} rows so that the batched kernels can always work on whole tiles of tokens.
 */
public final class ActivationRows {
    /** Tokens per tile of the batched kernels; the arrays are padded to a multiple of it. */
    static final int TOKEN_TILE = 4;
    static final int Q8_0_BLOCK = 32;
    static final int Q8_K_BLOCK = 256;

    private final int capacityRows;
    private final int paddedRows;
    private final int width;
    private int rows;
    final float[] values;

    /** F16 / BF16 form: values rounded to the weight's half type. */
    float[] rounded;
    private GgmlType roundedAs;

    /** Q8_0 form: quants in element order, widened to short for the integer kernels. */
    short[] q8;
    /** Q8_0 block scales (fp16-rounded), one per 32 elements. */
    float[] q8Scale;
    private boolean q8Ready;
    /** scale × quant: the exact value each Q8_0 element stands for (read by the portable kernels). */
    float[] q8Values;
    private boolean q8ValuesReady;
    /**
     * The Q8_0 quants transposed in groups of {@value RepackedNibbleKernel#GROUP} blocks, for
     * {@link RepackedNibbleKernel}: in row t, element k of block {@code 32 g + j} at
     * {@code q8Groups[t * width + 1024 g + 32 k + j]}, for the whole groups of the row (the rest is unused).
     */
    short[] q8Groups;
    /** Per block of 32, the sum of its Q8_0 quants. */
    int[] q8QuantSums;
    /** Per block of 32, its Q8_0 scale times the sum of its quants (for Q4_K's minimums). */
    float[] q8ScaledSums;
    private boolean q8GroupsReady;
    /**
     * The activation form of {@link #tilesAs} transposed into tiles of {@value BlockGemm#TILE} tokens for
     * {@link BlockGemm}, over the width rounded up to whole blocks of 32 ({@link #blockWidth()}): element k of token
     * {@code 16 j + l} at {@code tiles[Simd.ALIGNED_FLOATS + (j * blockWidth + k) * 16 + l]}; padding elements and
     * tokens are 0. The Q8_0 form holds each element's value, scale × quant (as {@link #q8Values}). A batch of one
     * tile ({@link BlockGemm#onePairedTile}) is laid out two positions at a time instead: elements 2m and 2m + 1 of
     * token l at {@code Simd.ALIGNED_FLOATS + 32 m + 16 (l / 8) + 2 (l % 8)} and the next index.
     */
    float[] tiles;
    /** The form in {@link #tiles}: Q8_0 (for Q8_0 and Q4_0 weights), F16 or BF16; null when not ready. */
    private GgmlType tilesAs;
    /** Gather indices of {@link #tilePositions} ({@link #gatherMaps}), made on first use. */
    private int[][] gatherMaps;
    /** The form {@link #tilePositions} reads while the tiles are being made. */
    private float[] tileSource;
    /** See {@link #workers}. */
    private WorkerPool pool;
    private final WorkerPool.RangeBody quantizeBody = this::quantizeBlocks;
    private final WorkerPool.RangeBody valuesBody = this::valueBlocks;
    private final WorkerPool.RangeBody tilesBody = this::tilePositions;
    /** Smallest share of a parallel form: blocks of 32 elements or positions of a tile. */
    private static final int PARALLEL_GRAIN = 128;

    /** Q8_K form: scale × quant, the exact value each element of the Q8_K quantization stands for. */
    float[] qkValues;
    private boolean qkReady;

    public ActivationRows(int capacityRows, int width) {
        if (capacityRows <= 0 || width <= 0) {
            throw new IllegalArgumentException("activation rows " + capacityRows + " × " + width);
        }
        this.capacityRows = capacityRows;
        this.paddedRows = (capacityRows + TOKEN_TILE - 1) / TOKEN_TILE * TOKEN_TILE;
        this.width = width;
        this.values = new float[paddedRows * width];
    }

    public int width() {
        return width;
    }

    public int rows() {
        return rows;
    }

    /** Rows the arrays hold: the capacity rounded up to whole token tiles. */
    int paddedRows() {
        return paddedRows;
    }

    public float[] values() {
        return values;
    }

    /** Declares that {@code values[0 .. n*width)} hold new input; cached forms are dropped. */
    public void set(int n) {
        if (n > capacityRows) {
            throw new IllegalArgumentException(n + " rows > capacity " + capacityRows);
        }
        rows = n;
        roundedAs = null;
        q8Ready = false;
        tilesAs = null;
        q8ValuesReady = false;
        q8GroupsReady = false;
        qkReady = false;
    }

    /** The fp16- or bf16-rounded values; {@code type} is F16 or BF16. */
    float[] rounded(GgmlType type) {
        if (roundedAs != type) {
            if (rounded == null) {
                rounded = new float[values.length];
            }
            int n = rows * width;
            if (type == GgmlType.F16) {
                for (int i = 0; i < n; i++) {
                    rounded[i] = Float16.round(values[i]);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    rounded[i] = Float16.roundBf16(values[i]);
                }
            }
            roundedAs = type;
        }
        return rounded;
    }

    /** Makes sure the Q8_0 form is ready; the width must be a multiple of 32. */
    void prepareQ8_0() {
        if (q8Ready) {
            return;
        }
        if (q8 == null) {
            q8 = new short[values.length];
            q8Scale = new float[values.length / Q8_0_BLOCK];
        }
        run(rows * width / Q8_0_BLOCK, quantizeBody);
        q8Ready = true;
    }

    /** Quantizes blocks {@code [start, end)} to Q8_0. */
    private void quantizeBlocks(int start, int end) {
        if (Simd.WIDE_VECTORS) {
            for (int b = start; b < end; b++) {
                quantizeQ8_0BlockInVectors(b * Q8_0_BLOCK, b);
            }
        } else {
            for (int b = start; b < end; b++) {
                quantizeQ8_0Block(b * Q8_0_BLOCK, b);
            }
        }
    }

    /**
     * {@code body} over {@code [0, blocks)}, split across the workers of the product that prepares this form
     * ({@link #workers}) where there is enough work for more than one, else on the calling thread.
     */
    private void run(int blocks, WorkerPool.RangeBody body) {
        WorkerPool p = pool;
        if (p == null || blocks < 2 * PARALLEL_GRAIN) {
            body.run(0, blocks);
        } else {
            p.parallelFor(blocks, PARALLEL_GRAIN, body);
        }
    }

    /**
     * The worker pool that computes the forms of later {@code prepare} calls (by blocks of 32 elements, or positions
     * of the tiles), or null: the calling thread alone. Set by the product about to read them.
     */
    void workers(WorkerPool pool) {
        this.pool = pool;
    }

    /**
     * {@link #quantizeQ8_0Block} in two 16-lane vectors, with the same results: round half away from zero is
     * computed as trunc(|x| / d + 1/2), less one where that sum was rounded up to the next integer.
     */
    void quantizeQ8_0BlockInVectors(int base, int block) {
        FloatVector lo = FloatVector.fromArray(Simd.F, values, base);
        FloatVector hi = FloatVector.fromArray(Simd.F, values, base + 16);
        float amax = lo.abs().max(hi.abs()).reduceLanes(VectorOperators.MAX);
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        FloatVector v = lo.abs().mul(id);
        IntVector q = (IntVector) v.add(0.5f).convert(VectorOperators.F2I, 0);
        q = q.sub(1, ((FloatVector) q.convert(VectorOperators.I2F, 0)).sub(0.5f).compare(VectorOperators.GT, v)
                .cast(Simd.I));
        q = q.lanewise(VectorOperators.NEG, lo.compare(VectorOperators.LT, 0f).cast(Simd.I));
        ((ShortVector) q.convertShape(VectorOperators.I2S, Simd.S_HALF, 0)).intoArray(q8, base);
        v = hi.abs().mul(id);
        q = (IntVector) v.add(0.5f).convert(VectorOperators.F2I, 0);
        q = q.sub(1, ((FloatVector) q.convert(VectorOperators.I2F, 0)).sub(0.5f).compare(VectorOperators.GT, v)
                .cast(Simd.I));
        q = q.lanewise(VectorOperators.NEG, hi.compare(VectorOperators.LT, 0f).cast(Simd.I));
        ((ShortVector) q.convertShape(VectorOperators.I2S, Simd.S_HALF, 0)).intoArray(q8, base + 16);
        q8Scale[block] = Float16.round(d);
    }

    /** ggml's quantize_row_q8_0: per block of 32, d = max|x| / 127, q = round(x / d), scale kept as fp16. */
    void quantizeQ8_0Block(int base, int block) {
        float amax = 0;
        for (int j = 0; j < Q8_0_BLOCK; j++) {
            amax = Math.max(amax, Math.abs(values[base + j]));
        }
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        for (int j = 0; j < Q8_0_BLOCK; j++) {
            int q = Math.round(Math.abs(values[base + j] * id));
            q8[base + j] = (short) (values[base + j] < 0 ? -q : q);
        }
        q8Scale[block] = Float16.round(d);
    }

    /** Makes sure the Q8_0 form and its float values ({@link #q8Values}) are ready. */
    void prepareQ8_0Values() {
        prepareQ8_0();
        if (q8ValuesReady) {
            return;
        }
        if (q8Values == null) {
            q8Values = new float[values.length];
        }
        run(rows * width / Q8_0_BLOCK, valuesBody);
        q8ValuesReady = true;
    }

    /** {@link #q8Values} of blocks {@code [start, end)}. */
    private void valueBlocks(int start, int end) {
        if (Simd.WIDE_VECTORS) {
            for (int b = start; b < end; b++) {
                int e = b * Q8_0_BLOCK;
                float d = q8Scale[b];
                ((FloatVector) ShortVector.fromArray(Simd.S_HALF, q8, e).convertShape(VectorOperators.S2F, Simd.F, 0))
                        .mul(d).intoArray(q8Values, e);
                ((FloatVector) ShortVector.fromArray(Simd.S_HALF, q8, e + 16).convertShape(VectorOperators.S2F, Simd.F, 0))
                        .mul(d).intoArray(q8Values, e + 16);
            }
        } else {
            for (int i = start * Q8_0_BLOCK; i < end * Q8_0_BLOCK; i++) {
                q8Values[i] = q8Scale[i / Q8_0_BLOCK] * q8[i];
            }
        }
    }

    /**
     * Makes sure {@link #q8Groups}, {@link #q8QuantSums} and {@link #q8ScaledSums} are ready (and the Q8_0 form).
     */
    void prepareQ8_0Groups() {
        prepareQ8_0();
        if (q8GroupsReady) {
            return;
        }
        if (q8Groups == null) {
            q8Groups = new short[values.length];
            q8QuantSums = new int[values.length / Q8_0_BLOCK];
            q8ScaledSums = new float[values.length / Q8_0_BLOCK];
        }
        int blocks = width / Q8_0_BLOCK;
        int group = RepackedNibbleKernel.GROUP;
        int groups = blocks / group;
        for (int t = 0; t < rows; t++) {
            int e = t * width;
            for (int g = 0; g < groups; g++) {
                int o = e + g * group * Q8_0_BLOCK;
                for (int j = 0; j < group; j++) {
                    int src = o + j * Q8_0_BLOCK;
                    for (int k = 0; k < Q8_0_BLOCK; k++) {
                        q8Groups[o + k * group + j] = q8[src + k];
                    }
                }
            }
            for (int b = 0; b < blocks; b++) {
                int sum = 0;
                for (int k = e + b * Q8_0_BLOCK; k < e + (b + 1) * Q8_0_BLOCK; k++) {
                    sum += q8[k];
                }
                q8QuantSums[t * blocks + b] = sum;
                q8ScaledSums[t * blocks + b] = q8Scale[t * blocks + b] * sum;
            }
        }
        q8GroupsReady = true;
    }

    /** The width rounded up to a whole number of blocks of 32: the width of {@link #tiles}. */
    int blockWidth() {
        return (width + Q8_0_BLOCK - 1) / Q8_0_BLOCK * Q8_0_BLOCK;
    }

    /**
     * Makes sure {@link #tiles} hold the form {@code form} reads: the Q8_0 values (scale × quant) for the quantized
     * weights, the fp16- or bf16-rounded values for F16 / BF16 weights.
     */
    void prepareTiles(GgmlType form) {
        if (tilesAs == form) {
            return;
        }
        int tile = BlockGemm.TILE;
        int bw = blockWidth();
        int a = Simd.ALIGNED_FLOATS;
        if (tiles == null) {
            int tiles = (capacityRows + tile - 1) / tile;
            this.tiles = new float[a + tiles * tile * bw];
        }
        int count = (rows + tile - 1) / tile;
        if (bw != width) {
            Arrays.fill(tiles, a, a + count * tile * bw, 0f); // the padding positions and tokens
        }
        float[] v;
        if (form == GgmlType.Q8_0) {
            prepareQ8_0Values();
            v = q8Values;
        } else {
            v = rounded(form);
        }
        boolean paired = BlockGemm.onePairedTile(rows);
        tileSource = v;
        gatherMaps();
        run(paired ? width / 2 : width, tilesBody);
        if (paired && width % 2 != 0) {
            int k = width - 1;
            for (int l = 0; l < rows; l++) {
                tiles[a + k * tile + l / 8 * 16 + l % 8 * 2] = v[l * width + k];
            }
        }
        tileSource = null;
        tilesAs = form;
    }

    /**
     * Positions {@code [start, end)} of {@link #tiles} (position pairs in the paired layout), each position's tokens
     * gathered from their rows 8 tokens (rows) at a time: a row is often a multiple of 4 KB long, which puts the
     * gathered elements of all the rows in one set of the first-level cache; 8 rows' lines stay there for the next
     * positions, 16 would not.
     */
    private void tilePositions(int start, int end) {
        float[] v = tileSource;
        int tile = BlockGemm.TILE;
        int a = Simd.ALIGNED_FLOATS;
        int[][] maps = gatherMaps;
        if (BlockGemm.onePairedTile(rows)) {
            // two positions of 8 tokens to a vector: tokens 0-7 at a + 32 m, 8-15 at a + 32 m + 16
            for (int h = 0; h < 2; h++) {
                int[] map = maps[h];
                VectorMask<Float> lanes = VectorMask.fromLong(Simd.F, (1L << Math.clamp(2 * rows - 16 * h, 0, 16)) - 1);
                for (int m = start; m < end; m++) {
                    FloatVector.fromArray(Simd.F, v, 2 * m, map, 0, lanes).intoArray(tiles, a + 2 * m * tile + 16 * h);
                }
            }
            return;
        }
        int bw = blockWidth();
        int count = (rows + tile - 1) / tile;
        for (int j = 0; j < count; j++) {
            int tokens = Math.min(tile, rows - j * tile);
            int e0 = j * tile * width;
            for (int h = 0; h < (tokens > 8 ? 2 : 1); h++) {
                int[] map = maps[tokens == tile ? 2 : 3];
                VectorMask<Float> lanes = VectorMask.fromLong(Simd.F,
                        ((1L << Math.clamp(tokens - 8 * h, 0, 8)) - 1) << 8 * h);
                int o = a + (j * bw + start) * tile;
                // the first pass writes whole vectors (0 past the last token), the second its own lanes
                for (int k = start; k < end; k++, o += tile) {
                    FloatVector g = FloatVector.fromArray(Simd.F, v, e0 + k, map, 0, lanes);
                    if (h == 0) {
                        g.intoArray(tiles, o);
                    } else {
                        g.intoArray(tiles, o, lanes);
                    }
                }
            }
        }
    }

    /**
     * The gather indices of {@link #tilePositions}, relative to the position's element of a tile's first token: in
     * the paired layout, lane 2l + i at element i of the row of token l (map 0) or 8 + l (map 1); else lane l at
     * token l's row, for a whole tile (map 2) and for the batch's last tile (map 3), whose lanes past its last token
     * point into its first token's row (a masked gather still checks every lane's index).
     */
    private void gatherMaps() {
        int[][] maps = gatherMaps;
        if (maps == null) {
            maps = new int[4][BlockGemm.TILE];
            gatherMaps = maps;
        }
        int last = rows - (rows - 1) / BlockGemm.TILE * BlockGemm.TILE;
        for (int lane = 0; lane < BlockGemm.TILE; lane++) {
            for (int h = 0; h < 2; h++) {
                int token = 8 * h + lane / 2;
                maps[h][lane] = (token < rows ? token * width : 0) + lane % 2;
            }
            maps[2][lane] = lane * width;
            maps[3][lane] = lane < last ? lane * width : 0;
        }
    }

    /** Makes sure the Q8_K form is ready; the width must be a multiple of 256. */
    void prepareQ8_K() {
        if (qkReady) {
            return;
        }
        if (qkValues == null) {
            qkValues = new float[values.length];
        }
        int blocks = rows * width / Q8_K_BLOCK;
        for (int b = 0; b < blocks; b++) {
            quantizeQ8_KBlock(b * Q8_K_BLOCK);
        }
        qkReady = true;
    }

    /**
     * ggml's quantize_row_q8_K: the element of largest magnitude maps to -127, q = round-half-even(x · iscale)
     * capped at 127, and the block's float scale is 1 / iscale.
     */
    private void quantizeQ8_KBlock(int base) {
        float max = 0;
        float amax = 0;
        for (int j = 0; j < Q8_K_BLOCK; j++) {
            float ax = Math.abs(values[base + j]);
            if (ax > amax) {
                amax = ax;
                max = values[base + j];
            }
        }
        if (amax == 0) {
            Arrays.fill(qkValues, base, base + Q8_K_BLOCK, 0f);
            return;
        }
        float iscale = -127f / max;
        float d = 1 / iscale;
        for (int j = 0; j < Q8_K_BLOCK; j++) {
            qkValues[base + j] = d * Math.min(127, (int) Math.rint(iscale * values[base + j]));
        }
    }
}
