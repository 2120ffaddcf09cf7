package dev.gale.runtime.sampling;

import dev.gale.runtime.backend.Logits;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Chooses tokens from logits: penalties, then top-k, top-p, min-p, temperature and a seeded draw (llama.cpp's
 * order). Greedy when the temperature is 0. One sampler per sequence; it keeps the random state and the recent
 * tokens that the penalties look at. Candidate buffers are reused between calls.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private final int[] history;
    private int historyCount;
    private int historyStart;
    private int[] ids = new int[0];
    private float[] probs = new float[0];
    private Integer[] order = new Integer[0];

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
        int n = params.repeatLastN() < 0 ? 1 << 16 : params.repeatLastN();
        this.history = new int[Math.max(1, n)];
    }

    public SamplingParams params() {
        return params;
    }

    /** Records a token (prompt or generated) for the penalties. */
    public void accept(int token) {
        if (historyCount < history.length) {
            history[(historyStart + historyCount++) % history.length] = token;
        } else {
            history[historyStart] = token;
            historyStart = (historyStart + 1) % history.length;
        }
    }

    /** Chooses the next token. {@code logits} may be modified. */
    public int sample(float[] logits) {
        if (params.hasPenalties() && historyCount > 0) {
            applyPenalties(logits);
        }
        if (params.isGreedy()) {
            return Logits.argmax(logits);
        }
        int vocab = logits.length;
        int n = candidates(logits);
        // top-k
        if (params.topK() > 0 && params.topK() < n) {
            n = params.topK();
        }
        // softmax over the survivors (untempered, as llama.cpp's top-p and min-p see them)
        softmax(logits, n, 1f);
        if (params.topP() < 1f) {
            double cum = 0;
            int keep = n;
            for (int i = 0; i < n; i++) {
                cum += probs[i];
                if (cum >= params.topP()) {
                    keep = i + 1;
                    break;
                }
            }
            n = Math.max(1, keep);
        }
        if (params.minP() > 0f) {
            float threshold = probs[0] * params.minP();
            int keep = 1;
            while (keep < n && probs[keep] >= threshold) {
                keep++;
            }
            n = keep;
        }
        softmax(logits, n, params.temperature());
        double r = random.nextDouble();
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (r < cum) {
                return ids[i];
            }
        }
        return ids[n - 1] < vocab ? ids[n - 1] : Logits.argmax(logits);
    }

    /** Fills ids with the tokens sorted by logit, descending; returns how many (all, or the top-k prefix). */
    private int candidates(float[] logits) {
        int vocab = logits.length;
        if (ids.length < vocab) {
            ids = new int[vocab];
            probs = new float[vocab];
        }
        int k = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
        if (k < vocab && k <= 256) {
            // partial selection: keep the k best in a small sorted array
            int count = 0;
            for (int t = 0; t < vocab; t++) {
                float v = logits[t];
                if (count == k && v <= logits[ids[k - 1]]) {
                    continue;
                }
                int pos = count < k ? count++ : k - 1;
                while (pos > 0 && logits[ids[pos - 1]] < v) {
                    ids[pos] = ids[pos - 1];
                    pos--;
                }
                ids[pos] = t;
            }
            return k;
        }
        if (order.length < vocab) {
            order = new Integer[vocab];
        }
        for (int t = 0; t < vocab; t++) {
            order[t] = t;
        }
        Arrays.sort(order, 0, vocab, (a, b) -> Float.compare(logits[b], logits[a]));
        for (int t = 0; t < vocab; t++) {
            ids[t] = order[t];
        }
        return k;
    }

    private void softmax(float[] logits, int n, float temperature) {
        float max = logits[ids[0]];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp((logits[ids[i]] - max) / temperature);
            probs[i] = e;
            sum += e;
        }
        for (int i = 0; i < n; i++) {
            probs[i] = (float) (probs[i] / sum);
        }
    }

    private void applyPenalties(float[] logits) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < historyCount; i++) {
            counts.merge(history[(historyStart + i) % history.length], 1, Integer::sum);
        }
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            int t = e.getKey();
            if (t < 0 || t >= logits.length) {
                continue;
            }
            float l = logits[t];
            if (params.repetitionPenalty() != 1f) {
                l = l > 0 ? l / params.repetitionPenalty() : l * params.repetitionPenalty();
            }
            l -= e.getValue() * params.frequencyPenalty() + params.presencePenalty();
            logits[t] = l;
        }
    }
}
