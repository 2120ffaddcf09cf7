package dev.gale.runtime.cpu;

import dev.gale.runtime.backend.BatchRow;
import dev.gale.runtime.backend.BatchedSession;
import dev.gale.runtime.kv.PagedKvCache;
import java.util.List;

/** Many sequences on the CPU over one paged KV cache: each step's rows go through the model together. */
final class CpuBatchedSession implements BatchedSession {
    private final CpuForwardPass pass;
    private final PagedKvCache kv;
    private final int vocab;
    private final int[] logitRows;
    /** Logits of the rows that want them, grown to the most rows that have wanted them in one step. */
    private float[] logits = new float[0];

    CpuBatchedSession(CpuInferenceEngine engine, int blocks, int blockSize, int maxStepTokens) {
        this.kv = new PagedKvCache(engine.config.layers(), blocks, blockSize, engine.config.kvDim(), engine.config.vDim());
        this.pass = new CpuForwardPass(engine, maxStepTokens);
        this.vocab = engine.config.vocabSize();
        this.logitRows = new int[maxStepTokens];
    }

    @Override
    public int blockSize() {
        return kv.blockSize();
    }

    @Override
    public int blocks() {
        return kv.blocks();
    }

    @Override
    public int maxStepTokens() {
        return pass.maxRows();
    }

    @Override
    public void forward(List<BatchRow> rows) {
        int total = 0;
        for (BatchRow r : rows) {
            check(r);
            total += r.count();
        }
        if (total == 0 || total > pass.maxRows()) {
            throw new IllegalArgumentException("a step runs 1 to " + pass.maxRows() + " tokens, got " + total);
        }
        int n = 0;
        int wanted = 0;
        for (BatchRow r : rows) {
            for (int i = 0; i < r.count(); i++) {
                pass.setRow(n++, r.tokens()[r.offset() + i], r.position() + i, r.blockTable());
            }
            if (r.logits() != null) {
                logitRows[wanted++] = n - 1;
            }
        }
        pass.run(kv, n);
        if (wanted == 0) {
            return;
        }
        if (logits.length < wanted * vocab) {
            logits = new float[wanted * vocab];
        }
        pass.logits(logitRows, wanted, logits, 0);
        int k = 0;
        for (BatchRow r : rows) {
            if (r.logits() != null) {
                System.arraycopy(logits, k++ * vocab, r.logits(), 0, vocab);
            }
        }
    }

    private void check(BatchRow r) {
        for (int i = 0; i < r.count(); i++) {
            pass.checkToken(r.tokens()[r.offset() + i]);
        }
        int lastBlock = (r.position() + r.count() - 1) / kv.blockSize();
        if (lastBlock >= r.blockTable().length) {
            throw new IllegalArgumentException("the block table has " + r.blockTable().length + " blocks but position "
                    + (r.position() + r.count() - 1) + " needs " + (lastBlock + 1));
        }
        for (int b = 0; b <= lastBlock; b++) {
            int id = r.blockTable()[b];
            if (id < 0 || id >= kv.blocks()) {
                throw new IllegalArgumentException("KV block id " + id + " is outside [0, " + kv.blocks() + ")");
            }
        }
        if (r.logits() != null && r.logits().length != vocab) {
            throw new IllegalArgumentException("a logits buffer needs " + vocab + " floats, got " + r.logits().length);
        }
    }

    @Override
    public void close() {
        // the KV cache is plain heap memory
    }
}
