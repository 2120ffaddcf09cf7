package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.tensor.UnsupportedTensorTypeException;
import java.lang.foreign.MemorySegment;

/**
 * The kernels of one weight type, reading the packed rows of a (memory-mapped) tensor in place.
 * <ul>
 *   <li>Decode: the dot product of a weight row with one activation row, in the activation form the type reads.</li>
 *   <li>Batches: {@value FloatGemm#ROWS} weight rows at a time are expanded into a small cache-resident panel
 *       ({@link #toPanel}), which is then multiplied with {@value FloatGemm#TOKENS} activation rows at a time
 *       ({@link #panelTile}); each weight byte is read from memory once per batch. Q8_0, Q4_0, F16, BF16 and the repacked
 *       k-quants instead expand {@value BlockGemm#ROWS} rows into {@link BlockGemm}'s panel ({@link #toBlockPanel}),
 *       multiplied with tiles of 16 tokens ({@link #blockMinTokens}).</li>
 * </ul>
 * A row's result never depends on the other rows of a batch. On the float panel path it is bit for bit the decode
 * kernel's; {@link BlockGemm} adds in another order, so there the two agree to float rounding. The decode kernels
 * of F32, F16, Q8_0 and Q4_0 add in the order of ggml's CPU kernels, so that the results agree with llama.cpp's bit
 * for bit where the inputs do (Q8_0 on rows shorter than {@value Q8_0Kernel#WIDE} elements: see its comment).
 *
 * <p>Each type has its own loops, even where two types differ in one line: the JIT compiles and profiles a method
 * once, and a loop shared by two types would be compiled on the profile of whichever ran first. No kernel calls a
 * helper that takes or returns a vector (see {@link Simd}).
 */
sealed interface WeightKernel
        permits F32Kernel, F16Kernel, Bf16Kernel, Q8_0Kernel, Q4_0Kernel, RepackedNibbleKernel, ByteQuantKernel,
        SuperBlockKernel, PortableKernel {

    /** Floats of scratch a kernel may use: one 16-lane accumulator per output of a 4 × 4 tile. */
    int SCRATCH = 256;

    /** The vector kernel for a tensor's type ({@link PortableKernel} is the other choice). */
    static WeightKernel of(Tensor w) {
        return switch (w.type()) {
            case F32 -> F32Kernel.INSTANCE;
            case F16 -> F16Kernel.INSTANCE;
            case BF16 -> Bf16Kernel.INSTANCE;
            case Q8_0 -> Q8_0Kernel.INSTANCE;
            case Q4_0 -> Q4_0Kernel.INSTANCE;
            case Q4_K -> Q4_KKernel.INSTANCE;
            case Q5_K -> Q5_KKernel.INSTANCE;
            case Q6_K -> Q6_KKernel.INSTANCE;
            default -> throw new UnsupportedTensorTypeException(w.name(), w.type());
        };
    }

    GgmlType type();

    /** Computes the activation form this type reads on {@code path}. */
    void prepare(ActivationRows x, ProductPath path);

    /**
     * dot(weight row at byte {@code offset}, activation row {@code row}) over {@code x.width()} elements;
     * {@code lanes} is scratch of at least {@value #SCRATCH} floats.
     */
    float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes);

    /**
     * {@link #dot} of four weight rows with one activation row: the rows at bytes {@code offset + j * gap} into
     * {@code out[o + j * outGap]}, j = 0..3, each bit for bit what {@link #dot} gives. The decode path passes rows far
     * apart, so that a thread reads four streams of memory at once: from one sequential stream a core leaves much of
     * the bandwidth unused (the hardware prefetcher runs dry at every page it enters). The kernels of the types whose
     * decode is bound by memory override it; the default computes the rows one after the other.
     */
    default void dot4(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        for (int j = 0; j < 4; j++) {
            out[o + j * outGap] = dot(w, offset + j * gap, x, row, lanes);
        }
    }

    /**
     * How many rows {@link MatMul}'s decode reads at once, each a stream of memory: 4 ({@link #dot4}), or 8
     * ({@link #dot8}) for the kernels that override this and {@link #dot8}.
     */
    default int decodeStreams() {
        return 4;
    }

    /**
     * {@link #dot4} of eight weight rows, at bytes {@code offset + j * gap} into {@code out[o + j * outGap]}, j = 0..7,
     * each bit for bit what {@link #dot} gives; by default two {@link #dot4}.
     */
    default void dot8(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        dot4(w, offset, gap, x, row, lanes, out, o, outGap);
        dot4(w, offset + 4 * gap, gap, x, row, lanes, out, o + 4 * outGap, outGap);
    }

    /**
     * The largest batch that multiplies each weight row with the tokens directly, four at a time
     * ({@link #dotTokens4}), on the decode form of the activations, instead of through a panel: batches of
     * {@value MatMul#TOKEN_ROWS_MIN} tokens up to this many take that path. 0 for the kernels without it.
     */
    default int maxTokenRows() {
        return 0;
    }

    /**
     * {@link #dot} of the weight row at byte {@code offset} with activation rows {@code t0 .. t0 + 3} into
     * {@code out[(t0 + j) * outStride + outIndex]}, each bit for bit its {@link #dot}. The kernels whose
     * {@link #maxTokenRows} is positive implement it.
     */
    default void dotTokens4(MemorySegment w, long offset, ActivationRows x, int t0, float[] lanes, float[] out,
            int outIndex, int outStride) {
        throw new UnsupportedOperationException(type() + " multiplies batches through a panel");
    }

    /**
     * Whether batches too small for {@link BlockGemm} ({@link #blockMinTokens}) take the float panel
     * ({@link #toPanel}, {@link #panelTile}): the kernels that have no block product, and those that have both.
     */
    default boolean panelProduct() {
        return !blockProduct();
    }

    /** The smallest batch that takes {@link BlockGemm}'s product, for the kernels whose {@link #blockProduct} is true. */
    default int blockMinTokens() {
        return BlockGemm.MIN_TOKENS;
    }

    /** Whether batches take {@link BlockGemm}'s product ({@link #toBlockPanel}) instead of the float panel tiles. */
    default boolean blockProduct() {
        return false;
    }

    /**
     * The shortest rows whose batches take {@link BlockGemm}'s product, for the kernels whose {@link #blockProduct}
     * is true; shorter rows are multiplied row by row. Q8_0 and Q4_0 keep ggml's integer arithmetic on rows shorter
     * than {@value Q8_0Kernel#WIDE} (the test models: every token bit for bit its decode result, as llama.cpp's).
     */
    default int blockMinWidth() {
        return 0;
    }

    /**
     * Expands the weight row at byte {@code offset} ({@code n} elements) into row {@code r} of a {@link BlockGemm}
     * panel: the values of block b (of 32), each quant times its scales, as floats at
     * {@code panel[BlockGemm.at(b, r) ..]}, or, where {@code pairs} is not null (batches of one tile), two floats to
     * a long at {@code pairs[BlockGemm.pairAt(b, r) ..]}; zeros past the row's end. The kernels whose
     * {@link #blockProduct} is true implement it.
     */
    default void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, long[] pairs, int r) {
        throw new UnsupportedOperationException(type() + " takes the float panel path");
    }

    /**
     * {@link #toBlockPanel} of four weight rows, at bytes {@code offset + j * gap} into panel rows {@code r + j * rowGap}
     * (j = 0..3). The kernels whose expansion reads memory faster from several streams at once override it.
     */
    default void toBlockPanel4(MemorySegment w, long offset, long gap, int n, float[] panel, long[] pairs, int r,
            int rowGap) {
        for (int j = 0; j < 4; j++) {
            toBlockPanel(w, offset + j * gap, n, panel, pairs, r + j * rowGap);
        }
    }

    /*
     * The float panel path: F32 and the k-quants implement it (and the portable kernels); the types whose
     * blockProduct is true never take it.
     */

    /** Floats that one weight row of {@code n} elements takes in a panel. */
    default int panelStride(int n) {
        throw new UnsupportedOperationException(type() + " takes the block product path");
    }

    /** Expands the weight row at byte {@code offset} into {@code panel[panelOffset ..]}. */
    default void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        throw new UnsupportedOperationException(type() + " takes the block product path");
    }

    /**
     * {@code sums[r * TOKENS + t] = dot(panel row r, activation row t0 + t)} for the panel's {@value FloatGemm#ROWS}
     * rows ({@code stride} floats apart) and {@value FloatGemm#TOKENS} activation rows from {@code t0};
     * {@code lanes} is scratch of at least {@value #SCRATCH} floats.
     */
    default void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        throw new UnsupportedOperationException(type() + " takes the block product path");
    }
}
