package dev.gale.runtime.cpu;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.config.RopeLayout;
import dev.gale.model.tensor.Tensor;
import dev.gale.runtime.kv.PagedKvCache;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The transformer forward pass on the CPU over a batch of token rows. Each row is one token of some sequence with
 * its own position and block table, so a batch can mix the prompt chunk of one sequence with the decode tokens of
 * others. Every weight matrix is applied to all rows at once (matrix-matrix products); attention reads each row's
 * own sequence from the paged KV cache, causally (positions up to the row's own). Each row's arithmetic is the same
 * whatever the other rows are.
 */
final class CpuForwardPass {
    private final CpuInferenceEngine engine;
    private final ModelConfig c;
    private final WorkerPool pool;
    private final MatMul matMul;
    private final int maxRows;

    // per row
    private final int[] tokens;
    private final int[] positions;
    private final int[][] tables;

    // scratch, sized for maxRows rows
    private final float[] x;
    private final ActivationRows normed;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] qkv;
    private final ActivationRows attnOut;
    private final float[] proj;
    private final float[] gate;
    private final float[] up;
    private final ActivationRows hidden;
    private final float[] ropeCos;
    private final float[] ropeSin;

    // the attention in progress: fields, so that its parallel loop allocates nothing
    private final WorkerPool.RangeBody attentionBody = this::attendRows;
    /** The gated activation of the feed-forward block, over the threads (its exp was single-threaded work). */
    private final WorkerPool.RangeBody gatedBody = this::gateRows;
    /** Whether the layer in progress has gate and up in one matrix (their rows side by side per token). */
    private boolean gatedFused;
    /** Per-thread attention-score scratch, grown to the longest sequence seen. */
    private final float[][] attnScores;
    /** Per-thread scratch for the 16 scores of one key group, for up to four heads. */
    private final float[][] attnGroupScores;
    private PagedKvCache attnKv;
    /** Whether the attention in progress takes items of (row, key/value head), four query heads at a time. */
    private boolean attnFourHeads;
    private int attnLayer;
    private int attnWindow;

    CpuForwardPass(CpuInferenceEngine engine, int maxRows) {
        if (maxRows <= 0) {
            throw new IllegalArgumentException("a forward pass needs room for at least one row, got " + maxRows);
        }
        this.engine = engine;
        this.c = engine.config;
        this.pool = engine.pool;
        this.matMul = engine.newMatMul();
        this.maxRows = maxRows;
        int b = maxRows;
        this.attnScores = new float[pool.threads()][];
        this.attnGroupScores = new float[pool.threads()][Math.max(64, Exponentials.SCRATCH)];
        for (int i = 0; i < pool.threads(); i++) {
            attnScores[i] = new float[0];
        }
        this.tokens = new int[b];
        this.positions = new int[b];
        this.tables = new int[b][];
        this.x = new float[b * c.dim()];
        this.normed = new ActivationRows(b, c.dim());
        this.q = new float[b * c.qDim()];
        this.k = new float[b * c.kvDim()];
        this.v = new float[b * c.vDim()];
        this.qkv = engine.layers[0].w().wqkv() != null ? new float[b * (c.qDim() + c.kvDim() + c.vDim())] : null;
        this.attnOut = new ActivationRows(b, c.heads() * c.valueDim());
        this.proj = new float[b * c.dim()];
        this.gate = new float[b * 2 * c.ffnDim()];
        this.up = new float[b * c.ffnDim()];
        this.hidden = new ActivationRows(b, c.ffnDim());
        this.ropeCos = new float[b * c.ropeDim() / 2];
        this.ropeSin = new float[b * c.ropeDim() / 2];
    }

    int maxRows() {
        return maxRows;
    }

    /** Throws if {@code token} is not in the vocabulary. */
    void checkToken(int token) {
        if (token < 0 || token >= c.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + c.vocabSize() + ")");
        }
    }

    /** Sets row {@code row} of the next {@link #run}: {@code token} at {@code position}, cached through {@code table}. */
    void setRow(int row, int token, int position, int[] table) {
        tokens[row] = token;
        positions[row] = position;
        tables[row] = table;
    }

    /** Runs rows {@code [0, n)} through every layer, writing their keys and values into {@code kv}. */
    void run(PagedKvCache kv, int n) {
        if (n <= 0 || n > maxRows) {
            throw new IllegalArgumentException("a step runs 1 to " + maxRows + " rows, got " + n);
        }
        int dim = c.dim();
        Tensor embd = engine.weights.tokenEmbedding();
        float embScale = c.architecture().isGemma() ? (float) Math.sqrt(dim) : 1f;
        for (int t = 0; t < n; t++) {
            embd.dequantizeRow(tokens[t], x, t * dim);
            if (embScale != 1f) {
                for (int i = 0; i < dim; i++) {
                    x[t * dim + i] *= embScale;
                }
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            attention(kv, l, n);
            feedForward(l, n);
        }
    }

    /**
     * Final norm and output projection for the given rows: the logits of {@code rows[i]} go to
     * {@code out[outOffset + i * vocab ..]}.
     */
    void logits(int[] rows, int count, float[] out, int outOffset) {
        int dim = c.dim();
        float[] xs = normed.values();
        for (int r = 0; r < count; r++) {
            Activations.rmsNorm(xs, r * dim, x, rows[r] * dim, engine.outputNorm, dim, c.rmsEps());
        }
        normed.set(count);
        int vocab = c.vocabSize();
        matMul.apply(engine.weights.output(), normed, out, 0, vocab, vocab, outOffset);
        float cap = c.finalSoftcap();
        if (cap > 0) {
            for (int i = 0; i < count * vocab; i++) {
                out[outOffset + i] = Activations.softcap(out[outOffset + i], cap);
            }
        }
    }

    /**
     * Attention for items {@code [start, end)} of (row, key/value head), or of (row, head) where
     * {@link #attnFourHeads} is false: for each query head, scores against the row's sequence up to its own position,
     * softmax, and the weighted sum of the values. Where the hardware has 16-lane vectors and the keys are kept in
     * groups of 16 positions ({@link PagedKvCache#keyIndex}), 16 scores are computed at a time, each lane one
     * position's dot product, and query heads that share keys and values (grouped-query attention) go four at a time,
     * each key and value vector loaded once for the four ({@link #attendFourHeads}); otherwise one position at a time,
     * in the same arithmetic (four chains of fused multiply-adds over the head's elements, then added), so a score
     * depends neither on the KV block size nor on the heads beside it.
     */
    private void attendRows(int start, int end) {
        int worker = pool.workerIndex();
        if (!attnFourHeads) {
            int heads = c.heads();
            for (int i = start; i < end; i++) {
                attendHead(worker, i / heads, i % heads);
            }
            return;
        }
        int kvHeads = c.kvHeads();
        int group = c.groupSize();
        for (int i = start; i < end; i++) {
            int t = i / kvHeads;
            int h0 = i % kvHeads * group;
            int j = 0;
            for (; j + 4 <= group; j += 4) {
                attendFourHeads(worker, t, h0 + j);
            }
            for (; j < group; j++) {
                attendHead(worker, t, h0 + j);
            }
        }
    }

    /** Whether 16 positions' scores come out of one vector: 16-lane vectors and keys kept in groups of 16. */
    private static boolean groupedKeys(PagedKvCache kv) {
        return Simd.WIDE_VECTORS && kv.keyGroup() == Simd.F.length();
    }

    /** Per-thread score scratch of at least {@code size} floats. */
    private float[] scoreScratch(int worker, int size) {
        float[] scores = attnScores[worker];
        if (scores.length < size) {
            scores = new float[Math.max(size, 2 * scores.length)];
            attnScores[worker] = scores;
        }
        return scores;
    }

    /** Attention of query head {@code h} of row {@code t}. */
    private void attendHead(int worker, int t, int h) {
        PagedKvCache kv = attnKv;
        int l = attnLayer;
        int window = attnWindow;
        int heads = c.heads();
        int group = c.groupSize();
        int hd = c.headDim();
        int vd = c.valueDim();
        int qDim = c.qDim();
        int vDim = c.vDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float softcap = c.attnSoftcap();
        int bs = kv.blockSize();
        // keys in groups of 16 positions (PagedKvCache.keyIndex) give 16 scores per vector; the weighted value sums
        // are done 16 lanes at a time
        int g = kv.keyGroup();
        boolean grouped = groupedKeys(kv);
        float[] groupScores = attnGroupScores[worker];
        int vVectors = Simd.WIDE_VECTORS ? vd & ~15 : 0;
        float[] out = attnOut.values();
        int kvh = h / group;
        int p = positions[t];
        int[] table = tables[t];
        float[] scores = scoreScratch(worker, p + 1);
        int first = window > 0 ? Math.max(0, p - window + 1) : 0;
        int qOff = t * qDim + h * hd;
        float max = Float.NEGATIVE_INFINITY;
        for (int j0 = first; j0 <= p; ) {
            int slot = j0 % bs;
            int jEnd = Math.min(p + 1, j0 - slot + bs);
            float[] kc = kv.keys(l, table[j0 / bs]);
            if (grouped) {
                // 16 positions' scores at a time: the key group's element d of 16 positions is one vector
                while (j0 < jEnd) {
                    int g0 = slot - slot % g;
                    int base = kv.keyIndex(g0, kvh * hd);
                    FloatVector a0 = FloatVector.zero(Simd.F);
                    FloatVector a1 = a0;
                    FloatVector a2 = a0;
                    FloatVector a3 = a0;
                    int d = 0;
                    for (; d + 4 <= hd; d += 4) {
                        int o = base + d * g;
                        a0 = FloatVector.fromArray(Simd.F, kc, o).fma(FloatVector.broadcast(Simd.F, q[qOff + d]), a0);
                        a1 = FloatVector.fromArray(Simd.F, kc, o + g)
                                .fma(FloatVector.broadcast(Simd.F, q[qOff + d + 1]), a1);
                        a2 = FloatVector.fromArray(Simd.F, kc, o + 2 * g)
                                .fma(FloatVector.broadcast(Simd.F, q[qOff + d + 2]), a2);
                        a3 = FloatVector.fromArray(Simd.F, kc, o + 3 * g)
                                .fma(FloatVector.broadcast(Simd.F, q[qOff + d + 3]), a3);
                    }
                    for (; d < hd; d++) {
                        a0 = FloatVector.fromArray(Simd.F, kc, base + d * g)
                                .fma(FloatVector.broadcast(Simd.F, q[qOff + d]), a0);
                    }
                    a0.add(a1).add(a2.add(a3)).mul(scale).intoArray(groupScores, 0);
                    int stop = Math.min(jEnd, j0 + g - (slot - g0));
                    for (; j0 < stop; j0++, slot++) {
                        float s = groupScores[slot - g0];
                        if (softcap > 0) {
                            s = Activations.softcap(s, softcap);
                        }
                        scores[j0] = s;
                        max = Math.max(max, s);
                    }
                }
                continue;
            }
            for (int j = j0; j < jEnd; j++, slot++) {
                // the grouped path's arithmetic, one lane of it: four fused multiply-add chains, then added
                int kOff = kv.keyIndex(slot, kvh * hd);
                float c0 = 0;
                float c1 = 0;
                float c2 = 0;
                float c3 = 0;
                int d = 0;
                for (; d + 4 <= hd; d += 4) {
                    c0 = Math.fma(kc[kOff + d * g], q[qOff + d], c0);
                    c1 = Math.fma(kc[kOff + (d + 1) * g], q[qOff + d + 1], c1);
                    c2 = Math.fma(kc[kOff + (d + 2) * g], q[qOff + d + 2], c2);
                    c3 = Math.fma(kc[kOff + (d + 3) * g], q[qOff + d + 3], c3);
                }
                for (; d < hd; d++) {
                    c0 = Math.fma(kc[kOff + d * g], q[qOff + d], c0);
                }
                float s = (c0 + c1) + (c2 + c3);
                s *= scale;
                if (softcap > 0) {
                    s = Activations.softcap(s, softcap);
                }
                scores[j] = s;
                max = Math.max(max, s);
            }
            j0 = jEnd;
        }
        normalize(scores, first, p + 1, max, groupScores);
        int oOff = t * heads * vd + h * vd;
        // the weighted sum of the values, 16 output lanes at a time held in a register over all positions
        for (int d0 = 0; d0 < vVectors; d0 += 16) {
            FloatVector acc = FloatVector.zero(Simd.F);
            for (int j0 = first; j0 <= p; ) {
                int slot = j0 % bs;
                int jEnd = Math.min(p + 1, j0 - slot + bs);
                float[] vc = kv.values(l, table[j0 / bs]);
                for (int j = j0; j < jEnd; j++, slot++) {
                    acc = FloatVector.fromArray(Simd.F, vc, slot * vDim + kvh * vd + d0)
                            .fma(FloatVector.broadcast(Simd.F, scores[j]), acc);
                }
                j0 = jEnd;
            }
            acc.intoArray(out, oOff + d0);
        }
        for (int d = vVectors; d < vd; d++) {
            out[oOff + d] = 0;
        }
        if (vVectors < vd) {
            for (int j0 = first; j0 <= p; ) {
                int slot = j0 % bs;
                int jEnd = Math.min(p + 1, j0 - slot + bs);
                float[] vc = kv.values(l, table[j0 / bs]);
                for (int j = j0; j < jEnd; j++, slot++) {
                    float w = scores[j];
                    int vOff = slot * vDim + kvh * vd;
                    for (int d = vVectors; d < vd; d++) {
                        out[oOff + d] += w * vc[vOff + d];
                    }
                }
                j0 = jEnd;
            }
        }
    }

    /**
     * Attention of query heads {@code h0 .. h0 + 3} of row {@code t}, which share a key/value head: each key vector
     * (one element of 16 positions) and each value vector is loaded once for the four heads. Every head's arithmetic
     * is {@link #attendHead}'s grouped path, operation for operation, so its output is bit for bit the same.
     */
    private void attendFourHeads(int worker, int t, int h0) {
        PagedKvCache kv = attnKv;
        int l = attnLayer;
        int window = attnWindow;
        int heads = c.heads();
        int hd = c.headDim();
        int vd = c.valueDim();
        int qDim = c.qDim();
        int vDim = c.vDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float softcap = c.attnSoftcap();
        int bs = kv.blockSize();
        int g = kv.keyGroup();
        float[] groupScores = attnGroupScores[worker];
        float[] out = attnOut.values();
        int kvh = h0 / c.groupSize();
        int p = positions[t];
        int[] table = tables[t];
        int len = p + 1;
        // head k's scores at [k * len, (k + 1) * len)
        float[] scores = scoreScratch(worker, 4 * len);
        int first = window > 0 ? Math.max(0, p - window + 1) : 0;
        int q0 = t * qDim + h0 * hd;
        int q1 = q0 + hd;
        int q2 = q1 + hd;
        int q3 = q2 + hd;
        float max0 = Float.NEGATIVE_INFINITY;
        float max1 = max0;
        float max2 = max0;
        float max3 = max0;
        FloatVector vmax0 = FloatVector.broadcast(Simd.F, Float.NEGATIVE_INFINITY);
        FloatVector vmax1 = vmax0;
        FloatVector vmax2 = vmax0;
        FloatVector vmax3 = vmax0;
        for (int j0 = first; j0 <= p; ) {
            int slot = j0 % bs;
            int jEnd = Math.min(p + 1, j0 - slot + bs);
            float[] kc = kv.keys(l, table[j0 / bs]);
            while (j0 < jEnd) {
                int g0 = slot - slot % g;
                int base = kv.keyIndex(g0, kvh * hd);
                FloatVector a00 = FloatVector.zero(Simd.F);
                FloatVector a01 = a00;
                FloatVector a02 = a00;
                FloatVector a03 = a00;
                FloatVector a10 = a00;
                FloatVector a11 = a00;
                FloatVector a12 = a00;
                FloatVector a13 = a00;
                FloatVector a20 = a00;
                FloatVector a21 = a00;
                FloatVector a22 = a00;
                FloatVector a23 = a00;
                FloatVector a30 = a00;
                FloatVector a31 = a00;
                FloatVector a32 = a00;
                FloatVector a33 = a00;
                int d = 0;
                for (; d + 4 <= hd; d += 4) {
                    int o = base + d * g;
                    FloatVector k0 = FloatVector.fromArray(Simd.F, kc, o);
                    FloatVector k1 = FloatVector.fromArray(Simd.F, kc, o + g);
                    FloatVector k2 = FloatVector.fromArray(Simd.F, kc, o + 2 * g);
                    FloatVector k3 = FloatVector.fromArray(Simd.F, kc, o + 3 * g);
                    a00 = k0.fma(FloatVector.broadcast(Simd.F, q[q0 + d]), a00);
                    a01 = k1.fma(FloatVector.broadcast(Simd.F, q[q0 + d + 1]), a01);
                    a02 = k2.fma(FloatVector.broadcast(Simd.F, q[q0 + d + 2]), a02);
                    a03 = k3.fma(FloatVector.broadcast(Simd.F, q[q0 + d + 3]), a03);
                    a10 = k0.fma(FloatVector.broadcast(Simd.F, q[q1 + d]), a10);
                    a11 = k1.fma(FloatVector.broadcast(Simd.F, q[q1 + d + 1]), a11);
                    a12 = k2.fma(FloatVector.broadcast(Simd.F, q[q1 + d + 2]), a12);
                    a13 = k3.fma(FloatVector.broadcast(Simd.F, q[q1 + d + 3]), a13);
                    a20 = k0.fma(FloatVector.broadcast(Simd.F, q[q2 + d]), a20);
                    a21 = k1.fma(FloatVector.broadcast(Simd.F, q[q2 + d + 1]), a21);
                    a22 = k2.fma(FloatVector.broadcast(Simd.F, q[q2 + d + 2]), a22);
                    a23 = k3.fma(FloatVector.broadcast(Simd.F, q[q2 + d + 3]), a23);
                    a30 = k0.fma(FloatVector.broadcast(Simd.F, q[q3 + d]), a30);
                    a31 = k1.fma(FloatVector.broadcast(Simd.F, q[q3 + d + 1]), a31);
                    a32 = k2.fma(FloatVector.broadcast(Simd.F, q[q3 + d + 2]), a32);
                    a33 = k3.fma(FloatVector.broadcast(Simd.F, q[q3 + d + 3]), a33);
                }
                for (; d < hd; d++) {
                    FloatVector k0 = FloatVector.fromArray(Simd.F, kc, base + d * g);
                    a00 = k0.fma(FloatVector.broadcast(Simd.F, q[q0 + d]), a00);
                    a10 = k0.fma(FloatVector.broadcast(Simd.F, q[q1 + d]), a10);
                    a20 = k0.fma(FloatVector.broadcast(Simd.F, q[q2 + d]), a20);
                    a30 = k0.fma(FloatVector.broadcast(Simd.F, q[q3 + d]), a30);
                }
                FloatVector s0v = a00.add(a01).add(a02.add(a03)).mul(scale);
                FloatVector s1v = a10.add(a11).add(a12.add(a13)).mul(scale);
                FloatVector s2v = a20.add(a21).add(a22.add(a23)).mul(scale);
                FloatVector s3v = a30.add(a31).add(a32.add(a33)).mul(scale);
                if (softcap <= 0 && slot == g0 && j0 + g <= jEnd) {
                    // a whole group of 16 positions: its scores go to the heads' rows as vectors
                    s0v.intoArray(scores, j0);
                    s1v.intoArray(scores, len + j0);
                    s2v.intoArray(scores, 2 * len + j0);
                    s3v.intoArray(scores, 3 * len + j0);
                    vmax0 = vmax0.max(s0v);
                    vmax1 = vmax1.max(s1v);
                    vmax2 = vmax2.max(s2v);
                    vmax3 = vmax3.max(s3v);
                    j0 += g;
                    slot += g;
                    continue;
                }
                s0v.intoArray(groupScores, 0);
                s1v.intoArray(groupScores, 16);
                s2v.intoArray(groupScores, 32);
                s3v.intoArray(groupScores, 48);
                int stop = Math.min(jEnd, j0 + g - (slot - g0));
                for (; j0 < stop; j0++, slot++) {
                    int e = slot - g0;
                    float s0 = groupScores[e];
                    float s1 = groupScores[16 + e];
                    float s2 = groupScores[32 + e];
                    float s3 = groupScores[48 + e];
                    if (softcap > 0) {
                        s0 = Activations.softcap(s0, softcap);
                        s1 = Activations.softcap(s1, softcap);
                        s2 = Activations.softcap(s2, softcap);
                        s3 = Activations.softcap(s3, softcap);
                    }
                    scores[j0] = s0;
                    scores[len + j0] = s1;
                    scores[2 * len + j0] = s2;
                    scores[3 * len + j0] = s3;
                    max0 = Math.max(max0, s0);
                    max1 = Math.max(max1, s1);
                    max2 = Math.max(max2, s2);
                    max3 = Math.max(max3, s3);
                }
            }
            j0 = jEnd;
        }
        // the largest score is the same value whichever way it is found
        max0 = Math.max(max0, vmax0.reduceLanes(VectorOperators.MAX));
        max1 = Math.max(max1, vmax1.reduceLanes(VectorOperators.MAX));
        max2 = Math.max(max2, vmax2.reduceLanes(VectorOperators.MAX));
        max3 = Math.max(max3, vmax3.reduceLanes(VectorOperators.MAX));
        // each head's softmax as attendHead's
        normalize(scores, first, len, max0, groupScores);
        normalize(scores, len + first, 2 * len, max1, groupScores);
        normalize(scores, 2 * len + first, 3 * len, max2, groupScores);
        normalize(scores, 3 * len + first, 4 * len, max3, groupScores);
        int o0 = t * heads * vd + h0 * vd;
        for (int d0 = 0; d0 < vd; d0 += 16) {
            FloatVector acc0 = FloatVector.zero(Simd.F);
            FloatVector acc1 = acc0;
            FloatVector acc2 = acc0;
            FloatVector acc3 = acc0;
            for (int j0 = first; j0 <= p; ) {
                int slot = j0 % bs;
                int jEnd = Math.min(p + 1, j0 - slot + bs);
                float[] vc = kv.values(l, table[j0 / bs]);
                for (int j = j0; j < jEnd; j++, slot++) {
                    FloatVector v = FloatVector.fromArray(Simd.F, vc, slot * vDim + kvh * vd + d0);
                    acc0 = v.fma(FloatVector.broadcast(Simd.F, scores[j]), acc0);
                    acc1 = v.fma(FloatVector.broadcast(Simd.F, scores[len + j]), acc1);
                    acc2 = v.fma(FloatVector.broadcast(Simd.F, scores[2 * len + j]), acc2);
                    acc3 = v.fma(FloatVector.broadcast(Simd.F, scores[3 * len + j]), acc3);
                }
                j0 = jEnd;
            }
            acc0.intoArray(out, o0 + d0);
            acc1.intoArray(out, o0 + vd + d0);
            acc2.intoArray(out, o0 + 2 * vd + d0);
            acc3.intoArray(out, o0 + 3 * vd + d0);
        }
    }

    /**
     * {@code scores[from, to)} become their softmax weights: exp(s − max) times the float reciprocal of their sum (the
     * sum in double), which the weighted sum of the values then reads.
     */
    private static void normalize(float[] scores, int from, int to, float max, float[] lanes) {
        // the same exponentials whether or not the JIT has compiled this loop (see Exponentials)
        double sum = Exponentials.expShifted(scores, from, to, max, 1f, scores, lanes);
        float inv = (float) (1.0 / sum);
        for (int j = from; j < to; j++) {
            scores[j] *= inv;
        }
    }

    private void attention(PagedKvCache kv, int l, int n) {
        CpuInferenceEngine.Layer layer = engine.layers[l];
        int dim = c.dim();
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int vDim = c.vDim();
        float eps = c.rmsEps();
        float[] xs = normed.values();
        for (int t = 0; t < n; t++) {
            Activations.rmsNorm(xs, t * dim, x, t * dim, layer.attnNorm(), dim, eps);
        }
        normed.set(n);
        if (layer.w().wqkv() != null) {
            int total = qDim + kvDim + vDim;
            matMul.apply(layer.w().wqkv(), normed, qkv);
            for (int t = 0; t < n; t++) {
                System.arraycopy(qkv, t * total, q, t * qDim, qDim);
                System.arraycopy(qkv, t * total + qDim, k, t * kvDim, kvDim);
                System.arraycopy(qkv, t * total + qDim + kvDim, v, t * vDim, vDim);
            }
        } else {
            matMul.apply(layer.w().wq(), normed, q);
            matMul.apply(layer.w().wk(), normed, k);
            matMul.apply(layer.w().wv(), normed, v);
        }
        addBias(q, layer.bq(), n, qDim);
        addBias(k, layer.bk(), n, kvDim);
        addBias(v, layer.bv(), n, vDim);
        int hd = c.headDim();
        if (layer.qNorm() != null) {
            for (int i = 0; i < n * c.heads(); i++) {
                Activations.rmsNorm(q, i * hd, q, i * hd, layer.qNorm(), hd, eps);
            }
            for (int i = 0; i < n * c.kvHeads(); i++) {
                Activations.rmsNorm(k, i * hd, k, i * hd, layer.kNorm(), hd, eps);
            }
        }
        boolean local = c.isLocalLayer(l);
        float base = local ? c.ropeBaseLocal() : c.ropeBase();
        ropeTables(n, base);
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < c.heads(); h++) {
                rope(q, t * qDim + h * hd, t);
            }
            for (int h = 0; h < c.kvHeads(); h++) {
                rope(k, t * kvDim + h * hd, t);
            }
        }
        int bs = kv.blockSize();
        for (int t = 0; t < n; t++) {
            int p = positions[t];
            int block = tables[t][p / bs];
            int slot = p % bs;
            kv.putKey(l, block, slot, k, t * kvDim);
            System.arraycopy(v, t * vDim, kv.values(l, block), slot * vDim, vDim);
        }

        attnKv = kv;
        attnLayer = l;
        attnWindow = local ? c.slidingWindow() : 0;
        // four heads at a time where they share keys and values, the work split by key/value head, unless that
        // leaves too few items for the threads (a decode step on a many-core machine): then by head
        attnFourHeads = groupedKeys(kv) && c.valueDim() % Simd.F.length() == 0
                && c.groupSize() >= 4 && n * c.kvHeads() >= 4 * pool.threads();
        pool.parallelFor(attnFourHeads ? n * c.kvHeads() : n * c.heads(), attentionBody);
        attnKv = null;
        attnOut.set(n);
        matMul.apply(layer.w().wo(), attnOut, proj);
        residual(proj, layer.postAttnNorm(), n);
    }

    private void feedForward(int l, int n) {
        CpuInferenceEngine.Layer layer = engine.layers[l];
        int dim = c.dim();
        int ff = c.ffnDim();
        float[] xs = normed.values();
        for (int t = 0; t < n; t++) {
            Activations.rmsNorm(xs, t * dim, x, t * dim, layer.ffnNorm(), dim, c.rmsEps());
        }
        normed.set(n);
        gatedFused = layer.w().wGateUp() != null;
        if (gatedFused) {
            matMul.apply(layer.w().wGateUp(), normed, gate);
        } else {
            matMul.apply(layer.w().wGate(), normed, gate);
            matMul.apply(layer.w().wUp(), normed, up);
        }
        pool.parallelFor(n * ff, 2048, gatedBody); // ranges of at least 2048 elements: a decode step is 4 of them
        hidden.set(n);
        matMul.apply(layer.w().wDown(), hidden, proj);
        residual(proj, layer.postFfnNorm(), n);
    }

    /**
     * hidden = act(gate) ⊙ up for elements {@code [start, end)} of the step's {@code n × ffnDim} (gate and up side
     * by side per token in {@code gate} when the layer's matrices are fused, else in {@code gate} and {@code up}).
     */
    private void gateRows(int start, int end) {
        int ff = c.ffnDim();
        float[] h = hidden.values();
        float[] upValues = gatedFused ? gate : up;
        boolean gelu = c.architecture().isGemma();
        for (int i = start; i < end; ) {
            int t = i / ff;
            int stop = Math.min(end, (t + 1) * ff);
            int g = gatedFused ? i + t * ff : i;
            int u = gatedFused ? g + ff : i;
            if (gelu) {
                for (; i < stop; i++, g++, u++) {
                    h[i] = Activations.gelu(gate[g]) * upValues[u];
                }
            } else {
                Exponentials.siluTimes(gate, g, upValues, u, h, i, stop - i);
                i = stop;
            }
        }
    }

    /** x += (postNorm == null ? delta : rmsNorm(delta) * postNorm). */
    private void residual(float[] delta, float[] postNorm, int n) {
        int dim = c.dim();
        if (postNorm != null) {
            for (int t = 0; t < n; t++) {
                Activations.rmsNorm(delta, t * dim, delta, t * dim, postNorm, dim, c.rmsEps());
            }
        }
        for (int i = 0; i < n * dim; i++) {
            x[i] += delta[i];
        }
    }

    private static void addBias(float[] y, float[] bias, int n, int width) {
        if (bias == null) {
            return;
        }
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < width; i++) {
                y[t * width + i] += bias[i];
            }
        }
    }

    /** cos/sin of θ_i = p · base^(−2i/d) (divided by the Llama 3 frequency factor, times the linear scale). */
    private void ropeTables(int n, float base) {
        int half = c.ropeDim() / 2;
        float thetaScale = (float) Math.pow(base, -2.0 / c.ropeDim());
        float[] factors = engine.ropeFreqs;
        float freqScale = c.ropeScale();
        for (int t = 0; t < n; t++) {
            float theta = positions[t];
            for (int i = 0; i < half; i++) {
                float th = theta;
                if (factors != null) {
                    th /= factors[i];
                }
                th *= freqScale;
                ropeCos[t * half + i] = (float) Math.cos(th);
                ropeSin[t * half + i] = (float) Math.sin(th);
                theta *= thetaScale;
            }
        }
    }

    private void rope(float[] vec, int off, int t) {
        int half = c.ropeDim() / 2;
        boolean neox = c.architecture().ropeLayout() == RopeLayout.NEOX;
        for (int i = 0; i < half; i++) {
            float cos = ropeCos[t * half + i];
            float sin = ropeSin[t * half + i];
            int a = neox ? off + i : off + 2 * i;
            int b = neox ? off + i + half : off + 2 * i + 1;
            float x0 = vec[a];
            float x1 = vec[b];
            vec[a] = x0 * cos - x1 * sin;
            vec[b] = x0 * sin + x1 * cos;
        }
    }
}
