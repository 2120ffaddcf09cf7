package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Float16;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
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
        int blocks = rows * width / Q8_0_BLOCK;
        if (Simd.WIDE_VECTORS) {
            for (int b = 0; b < blocks; b++) {
                quantizeQ8_0BlockInVectors(b * Q8_0_BLOCK, b);
            }
        } else {
            for (int b = 0; b < blocks; b++) {
                quantizeQ8_0Block(b * Q8_0_BLOCK, b);
            }
        }
        q8Ready = true;
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
        int n = rows * width;
        for (int i = 0; i < n; i++) {
            q8Values[i] = q8Scale[i / Q8_0_BLOCK] * q8[i];
        }
        q8ValuesReady = true;
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
        Arrays.fill(tiles, a, a + count * tile * bw, 0f);
        // written in order, each tile position by position; the rows are read 16 at a time
        boolean pairs = BlockGemm.onePairedTile(rows);
        boolean q8Form = form == GgmlType.Q8_0;
        if (q8Form) {
            prepareQ8_0();
        }
        float[] v = q8Form ? null : rounded(form);
        for (int j = 0; j < count; j++) {
            int tokens = Math.min(tile, rows - j * tile);
            for (int k = 0; k < width; k++) {
                int o = a + (j * bw + k) * tile;
                for (int l = 0; l < tokens; l++) {
                    int e = (j * tile + l) * width + k;
                    tiles[pairs ? pairedIndex(a, k, l) : o + l] = q8Form ? q8Scale[e / Q8_0_BLOCK] * q8[e] : v[e];
                }
            }
        }
        tilesAs = form;
    }

    /** Where element {@code k} of token {@code l} lies in a tile laid out two positions at a time (see {@link #tiles}). */
    private static int pairedIndex(int a, int k, int l) {
        return a + (k & ~1) * BlockGemm.TILE + l / 8 * 16 + l % 8 * 2 + (k & 1);
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
