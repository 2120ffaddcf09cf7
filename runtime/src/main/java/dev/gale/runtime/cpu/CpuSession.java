package dev.gale.runtime.cpu;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.config.RopeLayout;
import dev.gale.model.tensor.Tensor;
import dev.gale.runtime.backend.ContextOverflowException;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.kv.KvCache;

/**
 * The transformer forward pass on the CPU for one sequence. Tokens are processed in chunks of up to
 * {@link #MAX_BATCH}: every weight matrix is applied to the whole chunk at once (matrix-matrix products) and
 * attention is causal within the chunk.
 */
final class CpuSession implements InferenceSession {
    static final int MAX_BATCH = 64;

    private final CpuInferenceEngine engine;
    private final ModelConfig c;
    private final WorkerPool pool;
    private final KvCache kv;
    private final int contextLength;
    private int position;

    // scratch, sized for MAX_BATCH rows
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
    private final float[] scores;
    private final float[] ropeCos;
    private final float[] ropeSin;

    CpuSession(CpuInferenceEngine engine, int contextLength) {
        this.engine = engine;
        this.c = engine.config;
        this.pool = engine.pool;
        this.contextLength = contextLength;
        this.kv = new KvCache(c.layers(), contextLength, c.kvDim(), c.vDim());
        int b = MAX_BATCH;
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
        this.scores = new float[c.heads() * b * contextLength];
        this.ropeCos = new float[b * c.ropeDim() / 2];
        this.ropeSin = new float[b * c.ropeDim() / 2];
    }

    @Override
    public int position() {
        return position;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public void truncate(int length) {
        if (length < 0 || length > position) {
            throw new IllegalArgumentException("cannot truncate to " + length + " (position " + position + ")");
        }
        position = length;
    }

    @Override
    public void close() {
        // the KV cache is plain heap memory
    }

    @Override
    public float[] forward(int[] tokens, int offset, int count, boolean allLogits) {
        if (count <= 0) {
            throw new IllegalArgumentException("no tokens to process");
        }
        if (position + count > contextLength) {
            throw new ContextOverflowException(position, count, contextLength);
        }
        for (int i = 0; i < count; i++) {
            int t = tokens[offset + i];
            if (t < 0 || t >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
        }
        int vocab = c.vocabSize();
        float[] logits = new float[(allLogits ? count : 1) * vocab];
        for (int done = 0; done < count; ) {
            int n = Math.min(MAX_BATCH, count - done);
            boolean last = done + n == count;
            forwardChunk(tokens, offset + done, n);
            if (allLogits) {
                outputLogits(n, 0, logits, done * vocab);
            } else if (last) {
                outputLogits(1, n - 1, logits, 0);
            }
            done += n;
        }
        return logits;
    }

    private void forwardChunk(int[] tokens, int offset, int n) {
        int dim = c.dim();
        Tensor embd = engine.weights.tokenEmbedding();
        float embScale = c.architecture().isGemma() ? (float) Math.sqrt(dim) : 1f;
        for (int t = 0; t < n; t++) {
            embd.dequantizeRow(tokens[offset + t], x, t * dim);
            if (embScale != 1f) {
                for (int i = 0; i < dim; i++) {
                    x[t * dim + i] *= embScale;
                }
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            attention(l, n);
            feedForward(l, n);
        }
        position += n;
    }

    private void attention(int l, int n) {
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
            MatMul.matmul(pool, layer.w().wqkv(), normed, qkv);
            for (int t = 0; t < n; t++) {
                System.arraycopy(qkv, t * total, q, t * qDim, qDim);
                System.arraycopy(qkv, t * total + qDim, k, t * kvDim, kvDim);
                System.arraycopy(qkv, t * total + qDim + kvDim, v, t * vDim, vDim);
            }
        } else {
            MatMul.matmul(pool, layer.w().wq(), normed, q);
            MatMul.matmul(pool, layer.w().wk(), normed, k);
            MatMul.matmul(pool, layer.w().wv(), normed, v);
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
        float[] kc = kv.keys(l);
        float[] vc = kv.values(l);
        System.arraycopy(k, 0, kc, position * kvDim, n * kvDim);
        System.arraycopy(v, 0, vc, position * vDim, n * vDim);

        int heads = c.heads();
        int group = c.groupSize();
        int vd = c.valueDim();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float softcap = c.attnSoftcap();
        int window = local ? c.slidingWindow() : 0;
        float[] out = attnOut.values();
        int pos0 = position;
        int ctx = contextLength;
        pool.parallelFor(n * heads, (start, end) -> {
            for (int i = start; i < end; i++) {
                int t = i / heads;
                int h = i % heads;
                int kvh = h / group;
                int p = pos0 + t;
                int first = window > 0 ? Math.max(0, p - window + 1) : 0;
                int sOff = i * ctx;
                int qOff = t * qDim + h * hd;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = first; j <= p; j++) {
                    int kOff = j * kvDim + kvh * hd;
                    float s = 0;
                    for (int d = 0; d < hd; d++) {
                        s += q[qOff + d] * kc[kOff + d];
                    }
                    s *= scale;
                    if (softcap > 0) {
                        s = Activations.softcap(s, softcap);
                    }
                    scores[sOff + j] = s;
                    max = Math.max(max, s);
                }
                double sum = 0;
                for (int j = first; j <= p; j++) {
                    float e = (float) Math.exp(scores[sOff + j] - max);
                    scores[sOff + j] = e;
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                int oOff = t * heads * vd + h * vd;
                for (int d = 0; d < vd; d++) {
                    out[oOff + d] = 0;
                }
                for (int j = first; j <= p; j++) {
                    float w = scores[sOff + j] * inv;
                    int vOff = j * vDim + kvh * vd;
                    for (int d = 0; d < vd; d++) {
                        out[oOff + d] += w * vc[vOff + d];
                    }
                }
            }
        });
        attnOut.set(n);
        MatMul.matmul(pool, layer.w().wo(), attnOut, proj);
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
        float[] h = hidden.values();
        if (layer.w().wGateUp() != null) {
            MatMul.matmul(pool, layer.w().wGateUp(), normed, gate);
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < ff; i++) {
                    h[t * ff + i] = act(gate[t * 2 * ff + i]) * gate[t * 2 * ff + ff + i];
                }
            }
        } else {
            MatMul.matmul(pool, layer.w().wGate(), normed, gate);
            MatMul.matmul(pool, layer.w().wUp(), normed, up);
            for (int i = 0; i < n * ff; i++) {
                h[i] = act(gate[i]) * up[i];
            }
        }
        hidden.set(n);
        MatMul.matmul(pool, layer.w().wDown(), hidden, proj);
        residual(proj, layer.postFfnNorm(), n);
    }

    private float act(float v) {
        return c.architecture().isGemma() ? Activations.gelu(v) : Activations.silu(v);
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
            float theta = position + t;
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

    /** Final norm and output projection for {@code rows} chunk rows starting at {@code firstRow}. */
    private void outputLogits(int rows, int firstRow, float[] logits, int logitsOff) {
        int dim = c.dim();
        float[] xs = normed.values();
        for (int r = 0; r < rows; r++) {
            Activations.rmsNorm(xs, r * dim, x, (firstRow + r) * dim, engine.outputNorm, dim, c.rmsEps());
        }
        normed.set(rows);
        int vocab = c.vocabSize();
        MatMul.matmul(pool, engine.weights.output(), normed, logits, 0, vocab, vocab, logitsOff);
        float cap = c.finalSoftcap();
        if (cap > 0) {
            for (int i = 0; i < rows * vocab; i++) {
                logits[logitsOff + i] = Activations.softcap(logits[logitsOff + i], cap);
            }
        }
    }
}
