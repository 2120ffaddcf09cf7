package dev.gale.runtime.cpu;

import dev.gale.model.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * Matrix products of packed weights with activation rows, computed on the packed (memory-mapped) blocks directly:
 * {@code out[t * outStride + outOffset + r] = dot(weight row r, input row t)}. The weight's rows are split across
 * the worker pool.
 * <ul>
 *   <li>One activation row (decode): each weight row is streamed once through the type's vector dot kernel, four
 *       rows a quarter of the thread's range apart at a time ({@link WeightKernel#dot4}), so that each core reads
 *       four streams of memory at once; eight where the kernel's {@link WeightKernel#decodeStreams} says so (F16,
 *       Q8_0 with its float scales: {@link WeightKernel#dot8}).</li>
 *   <li>Several rows (prefill): {@value FloatGemm#ROWS} weight rows at a time are expanded into a per-thread
 *       panel, and every {@value FloatGemm#TOKENS} tokens of the batch are multiplied with it in registers, so
 *       each weight block is read from memory once per batch. Q8_0, Q4_0, F16 and BF16 weights and the repacked
 *       k-quants ({@link BlockGemm}) expand {@value BlockGemm#ROWS} rows at a time and multiply them with tiles of 16
 *       or 32 tokens, from a kernel's {@link WeightKernel#blockMinTokens} tokens on ({@value BlockGemm#MIN_TOKENS};
 *       16 for the repacked Q5_K and Q6_K, whose smaller batches take the float panel).</li>
 *   <li>Small batches, from {@value #TOKEN_ROWS_MIN} tokens to a kernel's {@link WeightKernel#maxTokenRows}
 *       ({@value #TOKEN_ROWS_MAX} for repacked Q4_0 and Q4_K, {@value Q8_0Kernel#MAX_TOKEN_ROWS} for Q8_0), are
 *       multiplied row by row, four tokens at a time ({@link WeightKernel#dotTokens4}), each token bit for bit its
 *       decode result.</li>
 * </ul>
 * Matrices the CPU backend has repacked ({@link RepackedMatrices}) are read from their copies.
 * An instance owns its parallel-loop bodies and per-thread scratch, so a product allocates nothing; it is used by
 * one thread at a time.
 */
public final class MatMul {
    /** Batches of at least this many activation rows take the panel path. */
    static final int PANEL_MIN_ROWS = 2;
    /** Smallest number of weight rows a thread takes at a time on the decode path. */
    private static final int DECODE_GRAIN = 32;
    /**
     * Batches of {@value #TOKEN_ROWS_MIN} tokens up to a kernel's {@link WeightKernel#maxTokenRows} take its token
     * path; up to {@value #TOKEN_ROWS_MAX} for the repacked 4-bit kernel. Measured on the 1B shape's matrices (Q4_0,
     * two threads): 8 tokens 74–89 GFLOP/s against 31–32 through {@link BlockGemm}, 16 tokens 65–93 against 61–63;
     * from 32 tokens on, {@link BlockGemm}'s pair of tiles is as fast or faster (64 tokens: 107–110 against 70–92).
     */
    static final int TOKEN_ROWS_MIN = 4;
    static final int TOKEN_ROWS_MAX = 16;
    /**
     * Weight rows multiplied with one group of four tokens before the next group: their bytes stay in the core's
     * cache for the batch's other groups, while the four tokens' activations stay in its first-level cache.
     */
    private static final int TOKEN_ROW_BLOCK = 128;

    private final WorkerPool pool;
    private final boolean portable;
    private final RepackedMatrices repacked;
    private final float[][] panels;
    private final long[][] pairPanels;
    private final float[][] tileSums;
    private final float[][] lanes;
    private final float[][] accumulators;
    private final WorkerPool.RangeBody decodeBody = this::decodeRows;
    private final WorkerPool.RangeBody tokenBody = this::tokenRows;
    private final WorkerPool.RangeBody panelBody = this::panelTiles;
    private final WorkerPool.RangeBody blockBody = this::blockPanels;

    // the product in progress
    private WeightKernel kernel;
    private MemorySegment data;
    private long rowBytes;
    private ActivationRows x;
    private float[] out;
    private int rowStart;
    private int rowCount;
    private int outStride;
    private int outOffset;

    /**
     * Uses the vector kernels where the hardware has 512-bit vectors, else the portable ones; every weight is read
     * in place.
     */
    public MatMul(WorkerPool pool) {
        this(pool, !Simd.WIDE_VECTORS, RepackedMatrices.NONE);
    }

    /** With {@code portable}, the plain-Java kernels ({@link PortableKernel}) whatever the hardware. */
    MatMul(WorkerPool pool, boolean portable) {
        this(pool, portable, RepackedMatrices.NONE);
    }

    /**
     * Products of the matrices in {@code repacked} read their repacked copies with the repacked kernels (unless
     * {@code portable}); the others are read in place.
     */
    MatMul(WorkerPool pool, boolean portable, RepackedMatrices repacked) {
        this.pool = pool;
        this.portable = portable;
        this.repacked = repacked;
        this.panels = new float[pool.threads()][];
        this.pairPanels = new long[pool.threads()][];
        this.tileSums = new float[pool.threads()][];
        this.lanes = new float[pool.threads()][];
        this.accumulators = new float[pool.threads()][];
    }

    /**
     * A product for {@code matrices} as the CPU backend multiplies them: those it repacks ({@link RepackedMatrices};
     * Q4_0, Q4_K, Q5_K and Q6_K, and Q8_0's block scales, on hardware with 512-bit vectors, unless {@code -Dgale.cpu.repack=false})
     * are copied once here and read from the copies. For benchmarks of the engine's kernels.
     */
    public static MatMul repacking(WorkerPool pool, List<Tensor> matrices) {
        return new MatMul(pool, !Simd.WIDE_VECTORS,
                RepackedMatrices.enabled() ? RepackedMatrices.of(matrices, pool) : RepackedMatrices.NONE);
    }

    /** Bytes of weights a product with {@code w} reads: its repacked copy's, or the tensor's own. */
    public long weightBytes(Tensor w) {
        RepackedMatrices.Matrix r = portable ? null : repacked.find(w);
        return r != null ? r.bytesRead() : w.data().byteSize();
    }

    /** {@code out[t * rows + r]} for every row of the weight. */
    public void apply(Tensor w, ActivationRows x, float[] out) {
        apply(w, x, out, 0, w.rows(), w.rows(), 0);
    }

    /**
     * Computes weight rows {@code [rowStart, rowStart + rowCount)} into
     * {@code out[t * outStride + outOffset + (r - rowStart)]}.
     */
    public void apply(Tensor w, ActivationRows x, float[] out, int rowStart, int rowCount, int outStride, int outOffset) {
        if (w.rowLength() != x.width()) {
            throw new IllegalArgumentException(w.name() + ": row length " + w.rowLength() + " != input width " + x.width());
        }
        if (rowStart < 0 || rowCount < 0 || rowStart + rowCount > w.rows()) {
            throw new IllegalArgumentException(w.name() + ": rows [" + rowStart + ", " + (rowStart + rowCount)
                    + ") outside [0, " + w.rows() + ")");
        }
        RepackedMatrices.Matrix r = portable ? null : repacked.find(w);
        WeightKernel k = r != null ? r.kernel() : portable ? PortableKernel.of(w.name(), w.type()) : WeightKernel.of(w);
        ProductPath path = ProductPath.of(k, x.rows(), x.width());
        x.workers(pool);
        k.prepare(x, path);
        this.kernel = k;
        this.data = r != null ? r.data() : w.data();
        this.rowBytes = r != null ? r.rowBytes() : w.rowBytes();
        this.x = x;
        this.out = out;
        this.rowStart = rowStart;
        this.rowCount = rowCount;
        this.outStride = outStride;
        this.outOffset = outOffset;
        try {
            switch (path) {
                case TOKENS -> pool.parallelFor(rowCount, DECODE_GRAIN, tokenBody);
                case BLOCK -> pool.parallelFor((rowCount + BlockGemm.ROWS - 1) / BlockGemm.ROWS, blockBody);
                case PANEL -> pool.parallelFor((rowCount + FloatGemm.ROWS - 1) / FloatGemm.ROWS, panelBody);
                case ROWS -> pool.parallelFor(rowCount, DECODE_GRAIN, decodeBody);
            }
        } finally {
            this.kernel = null;
            this.data = null;
            this.x = null;
            this.out = null;
        }
    }

    private void decodeRows(int start, int end) {
        WeightKernel k = kernel;
        MemorySegment w = data;
        ActivationRows in = x;
        float[] scratch = scratch(pool.workerIndex());
        int n = in.rows();
        // four (or eight) streams per thread: rows i, i + q, i + 2q, ... of the range at once (WeightKernel.dot4,
        // dot8); with several tokens, the later ones find the rows in cache
        int streams = k.decodeStreams();
        int q = (end - start) / streams;
        for (int i = start; i < start + q; i++) {
            for (int t = 0; t < n; t++) {
                if (streams == 8) {
                    k.dot8(w, (rowStart + i) * rowBytes, q * rowBytes, in, t, scratch, out, t * outStride + outOffset + i, q);
                } else {
                    k.dot4(w, (rowStart + i) * rowBytes, q * rowBytes, in, t, scratch, out, t * outStride + outOffset + i, q);
                }
            }
        }
        for (int r = start + streams * q; r < end; r++) {
            long offset = (rowStart + r) * rowBytes;
            for (int t = 0; t < n; t++) {
                out[t * outStride + outOffset + r] = k.dot(w, offset, in, t, scratch);
            }
        }
    }

    /**
     * Rows {@code [start, end)} times every token, for {@link WeightKernel#tokenRows} kernels: blocks of
     * {@value #TOKEN_ROW_BLOCK} rows, each multiplied with the tokens four at a time, the last one to three tokens
     * one at a time.
     */
    private void tokenRows(int start, int end) {
        WeightKernel k = kernel;
        MemorySegment w = data;
        ActivationRows in = x;
        float[] scratch = scratch(pool.workerIndex());
        int n = in.rows();
        for (int r0 = start; r0 < end; r0 += TOKEN_ROW_BLOCK) {
            int r1 = Math.min(end, r0 + TOKEN_ROW_BLOCK);
            int t = 0;
            for (; t + 4 <= n; t += 4) {
                for (int r = r0; r < r1; r++) {
                    k.dotTokens4(w, (rowStart + r) * rowBytes, in, t, scratch, out, outOffset + r, outStride);
                }
            }
            for (; t < n; t++) {
                for (int r = r0; r < r1; r++) {
                    out[t * outStride + outOffset + r] = k.dot(w, (rowStart + r) * rowBytes, in, t, scratch);
                }
            }
        }
    }

    /** The calling thread's kernel scratch. */
    private float[] scratch(int worker) {
        float[] s = lanes[worker];
        if (s == null) {
            s = new float[WeightKernel.SCRATCH];
            lanes[worker] = s;
        }
        return s;
    }

    /** Panels {@code [start, end)} of {@value BlockGemm#ROWS} weight rows each, through {@link BlockGemm}. */
    private void blockPanels(int start, int end) {
        WeightKernel k = kernel;
        MemorySegment w = data;
        ActivationRows in = x;
        int width = in.width();
        int blockWidth = in.blockWidth();
        int blocks = blockWidth / BlockGemm.BLOCK;
        int worker = pool.workerIndex();
        float[] panel = null;
        long[] pairs = null;
        if (BlockGemm.onePairedTile(in.rows())) {
            pairs = pairPanels[worker];
            if (pairs == null || pairs.length < BlockGemm.pairPanelLength(blockWidth)) {
                pairs = new long[BlockGemm.pairPanelLength(blockWidth)];
                pairPanels[worker] = pairs;
            }
        } else {
            panel = panels[worker];
            if (panel == null || panel.length < BlockGemm.panelLength(blockWidth)) {
                panel = new float[BlockGemm.panelLength(blockWidth)];
                panels[worker] = panel;
            }
        }
        float[] acc = accumulators[worker];
        if (acc == null) {
            acc = new float[BlockGemm.accumulatorLength()];
            accumulators[worker] = acc;
        }
        float[] scratch = scratch(worker);
        for (int group = start; group < end; group++) {
            int r0 = group * BlockGemm.ROWS;
            int rows = Math.min(BlockGemm.ROWS, rowCount - r0);
            if (rows == BlockGemm.ROWS) {
                // rows i, i + 3, i + 6 and i + 9 together: four streams of memory (WeightKernel.toBlockPanel4)
                for (int i = 0; i < 3; i++) {
                    k.toBlockPanel4(w, (rowStart + r0 + i) * rowBytes, 3 * rowBytes, width, panel, pairs, i, 3);
                }
            } else {
                for (int i = 0; i < rows; i++) {
                    k.toBlockPanel(w, (rowStart + r0 + i) * rowBytes, width, panel, pairs, i);
                }
            }
            if (rows < BlockGemm.ROWS) {
                // the missing rows multiply as zeros; their results are not stored
                for (int b = 0; b < blocks; b++) {
                    if (pairs != null) {
                        Arrays.fill(pairs, BlockGemm.pairAt(b, rows), BlockGemm.pairAt(b + 1, 0), 0L);
                    } else {
                        Arrays.fill(panel, BlockGemm.at(b, rows), BlockGemm.at(b + 1, 0), 0f);
                    }
                }
            }
            BlockGemm.multiply(panel, pairs, in, rows, acc, out, outStride, outOffset + r0);
        }
    }

    /** Tiles {@code [start, end)} of {@value FloatGemm#ROWS} weight rows each. */
    private void panelTiles(int start, int end) {
        WeightKernel k = kernel;
        MemorySegment w = data;
        ActivationRows in = x;
        int n = in.rows();
        int width = in.width();
        int stride = k.panelStride(width);
        int worker = pool.workerIndex();
        float[] panel = panels[worker];
        if (panel == null || panel.length < FloatGemm.ROWS * stride) {
            panel = new float[FloatGemm.ROWS * stride];
            panels[worker] = panel;
        }
        float[] scratch = scratch(worker);
        float[] sums = tileSums[worker];
        if (sums == null) {
            sums = new float[FloatGemm.ROWS * FloatGemm.TOKENS];
            tileSums[worker] = sums;
        }
        for (int tile = start; tile < end; tile++) {
            int r0 = tile * FloatGemm.ROWS;
            int rows = Math.min(FloatGemm.ROWS, rowCount - r0);
            for (int i = 0; i < rows; i++) {
                k.toPanel(w, (rowStart + r0 + i) * rowBytes, panel, i * stride, width);
            }
            for (int t0 = 0; t0 < n; t0 += FloatGemm.TOKENS) {
                k.panelTile(panel, stride, in, t0, sums, scratch);
                int tokens = Math.min(FloatGemm.TOKENS, n - t0);
                for (int i = 0; i < rows; i++) {
                    for (int t = 0; t < tokens; t++) {
                        out[(t0 + t) * outStride + outOffset + r0 + i] = sums[i * FloatGemm.TOKENS + t];
                    }
                }
            }
        }
    }
}
