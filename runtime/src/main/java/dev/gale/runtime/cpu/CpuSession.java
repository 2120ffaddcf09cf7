package dev.gale.runtime.cpu;

import dev.gale.model.config.ModelConfig;
import dev.gale.runtime.backend.ContextOverflowException;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.kv.PagedKvCache;

/**
 * One sequence on the CPU. Tokens are processed in chunks of up to {@link #MAX_BATCH}: every weight matrix is
 * applied to the whole chunk at once (matrix-matrix products) and attention is causal within the chunk. The KV
 * cache is a single block spanning the context.
 */
final class CpuSession implements InferenceSession {
    /**
     * Tokens of a chunk. Each chunk expands every weight row into the batched product's panels again, about a tenth
     * of a 128-token chunk's time (JFR, Q4_0 prefill-512 of the 1B shape); 256-token chunks halve that. Alternating
     * builds (1B shape, Q4_0, 2 threads, prefill-512): 128 → 70.3 / 72.5 / 70.4 / 70.7 tok/s, 256 → 77.7 / 75.2 /
     * 75.3 / 76.4, 512 → 69.9 / 72.5 (its activation tiles no longer stay in the second-level cache).
     */
    static final int MAX_BATCH = 256;
    private static final int[] ONE_BLOCK = {0};

    private final ModelConfig c;
    private final CpuForwardPass pass;
    private final PagedKvCache kv;
    private final int contextLength;
    private final int[] lastRow = new int[1];
    private final int[] allRows = new int[MAX_BATCH];
    private final float[] lastLogits;
    private final int[] oneToken = new int[1];
    private int position;

    CpuSession(CpuInferenceEngine engine, int contextLength) {
        this.c = engine.config;
        this.contextLength = contextLength;
        // one block for the whole context, rounded up to whole key groups (the extra slots are never used)
        int slots = (contextLength + PagedKvCache.KEY_GROUP - 1) / PagedKvCache.KEY_GROUP * PagedKvCache.KEY_GROUP;
        this.kv = new PagedKvCache(c.layers(), 1, slots, c.kvDim(), c.vDim());
        this.pass = new CpuForwardPass(engine, MAX_BATCH);
        this.lastLogits = new float[c.vocabSize()];
        for (int i = 0; i < MAX_BATCH; i++) {
            allRows[i] = i;
        }
    }

    @Override
    public float[] decode(int token) {
        oneToken[0] = token;
        return forward(oneToken, 0, 1, false);
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
            pass.checkToken(tokens[offset + i]);
        }
        int vocab = c.vocabSize();
        // one row of logits goes to a buffer the session keeps (decode allocates nothing per token)
        float[] logits = allLogits ? new float[count * vocab] : lastLogits;
        for (int done = 0; done < count; ) {
            int n = Math.min(MAX_BATCH, count - done);
            for (int t = 0; t < n; t++) {
                pass.setRow(t, tokens[offset + done + t], position + t, ONE_BLOCK);
            }
            pass.run(kv, n);
            position += n;
            if (allLogits) {
                pass.logits(allRows, n, logits, done * vocab);
            } else if (done + n == count) {
                lastRow[0] = n - 1;
                pass.logits(lastRow, 1, logits, 0);
            }
            done += n;
        }
        return logits;
    }
}
