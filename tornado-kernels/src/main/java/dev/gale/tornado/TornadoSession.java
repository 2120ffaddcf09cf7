package dev.gale.tornado;

import dev.gale.runtime.backend.ContextOverflowException;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.tornado.plan.DecodePlan;

/** One sequence on the device: runs the decode plan token by token over the engine's KV cache. */
final class TornadoSession implements InferenceSession {
    private final TornadoInferenceEngine engine;
    private final DecodePlan plan;
    private final int contextLength;
    private final int vocab;
    private int position;

    TornadoSession(TornadoInferenceEngine engine, int contextLength) {
        this.engine = engine;
        this.plan = engine.plan();
        this.contextLength = contextLength;
        this.vocab = engine.config().vocabSize();
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
    public float[] forward(int[] tokens, int offset, int count, boolean allLogits) {
        check(tokens, offset, count);
        float[] logits = new float[(allLogits ? count : 1) * vocab];
        for (int i = 0; i < count; i++) {
            boolean wanted = allLogits || i == count - 1;
            plan.step(tokens[offset + i], position, wanted ? logits : null, allLogits ? i * vocab : 0);
            position++;
        }
        return logits;
    }

    @Override
    public int decodeGreedy(int token) {
        check(new int[] {token}, 0, 1);
        int next = plan.step(token, position, null);
        position++;
        return next;
    }

    private void check(int[] tokens, int offset, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("no tokens to process");
        }
        if (position + count > contextLength) {
            throw new ContextOverflowException(position, count, contextLength);
        }
        for (int i = 0; i < count; i++) {
            int t = tokens[offset + i];
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
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
        engine.closed(this);
    }
}
