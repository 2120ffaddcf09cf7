package dev.gale.runtime.sampling;

import dev.gale.runtime.backend.Logits;
import dev.gale.runtime.cpu.Exponentials;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Chooses tokens from logits: penalties, then top-k, top-p, min-p, temperature and a seeded draw (llama.cpp's
 * order). Greedy when the temperature is 0. One sampler per sequence; it keeps the random state and the recent
 * tokens that the penalties look at. Candidate buffers are reused between calls.
 */
public final class Sampler {
    /** Top-k up to this size is found by insertion into a small sorted array; larger ones by sorting candidates. */
    private static final int PARTIAL_TOP_K = 256;
    private final SamplingParams params;
    private final SplittableRandom random;
    private final int[] history;
    /** Scratch: the history sorted, to count each token's occurrences. */
    private final int[] recent;
    private int historyCount;
    private int historyStart;
    private int[] ids = new int[0];
    private float[] probs = new float[0];
    private final float[] lanes = new float[Exponentials.SCRATCH];
    private long[] keys = new long[0];

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
        int n = params.repeatLastN() < 0 ? 1 << 16 : params.repeatLastN();
        this.history = new int[Math.max(1, n)];
        this.recent = new int[history.length];
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
        if (cutsNothing(logits.length)) {
            return drawFromAll(logits);
        }
        int n = survivors(logits);
        softmax(logits, n, params.temperature());
        double r = random.nextDouble();
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (r < cum) {
                return ids[i];
            }
        }
        return ids[n - 1];
    }

    /** Candidate buffers for a vocabulary of this size, reused between calls. */
    private void ensureBuffers(int vocab) {
        if (ids.length < vocab) {
            ids = new int[vocab];
            probs = new float[vocab];
            keys = new long[vocab];
        }
    }

    /** Whether top-k, top-p and min-p all keep every token of a vocabulary of this size. */
    private boolean cutsNothing(int vocab) {
        return (params.topK() <= 0 || params.topK() >= vocab) && params.topP() >= 1f && params.minP() <= 0f;
    }

    /** A draw from the tempered softmax of every token, in id order (the common case: nothing is cut). */
    private int drawFromAll(float[] logits) {
        int vocab = logits.length;
        ensureBuffers(vocab);
        int vectors = FloatVector.SPECIES_PREFERRED.loopBound(vocab);
        FloatVector vmax = FloatVector.broadcast(FloatVector.SPECIES_PREFERRED, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < vectors; i += FloatVector.SPECIES_PREFERRED.length()) {
            vmax = vmax.max(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, logits, i));
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (int i = vectors; i < vocab; i++) {
            max = Math.max(max, logits[i]);
        }
        float invT = 1f / params.temperature();
        // the same draws for the same seed whether or not the JIT has compiled this method (see Exponentials)
        double total = Exponentials.expShifted(logits, 0, vocab, max, invT, probs, lanes);
        double r = random.nextDouble() * total;
        double cum = 0;
        for (int i = 0; i < vocab; i++) {
            cum += probs[i];
            if (r < cum) {
                return i;
            }
        }
        return Logits.argmax(logits);
    }

    /**
     * Applies top-k, top-p and min-p: afterwards {@code ids[0 .. n)} are the surviving tokens, sorted by logit
     * (descending, ties by id) unless nothing is cut, in which case they are all tokens in id order. Returns n.
     */
    int survivors(float[] logits) {
        int vocab = logits.length;
        ensureBuffers(vocab);
        int k = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
        if (cutsNothing(vocab)) {
            for (int t = 0; t < vocab; t++) {
                ids[t] = t;
            }
            return vocab;
        }
        int n;
        if (k < vocab && k <= PARTIAL_TOP_K) {
            n = topKByInsertion(logits, k);
            softmax(logits, n, 1f);
        } else {
            n = sortedCandidates(logits, k);
        }
        // top-p and min-p see the untempered probabilities of the top-k survivors (llama.cpp's order)
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
        return n;
    }

    /** The k best tokens into ids, sorted, keeping a small sorted array while scanning. */
    private int topKByInsertion(float[] logits, int k) {
        int count = 0;
        for (int t = 0; t < logits.length; t++) {
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

    /**
     * Sorts only the tokens that top-k, top-p and min-p can keep: those within a margin of the largest logit, the
     * margin doubling until the candidates are known to hold every survivor (at least k of them with top-k; with
     * top-p, a probability mass of at least top-p; with min-p, every token within ln(min-p) of the largest).
     * Fills ids (sorted) and probs (untempered: over all tokens, or over the k survivors with top-k).
     */
    private int sortedCandidates(float[] logits, int k) {
        int vocab = logits.length;
        float max = logits[Logits.argmax(logits)];
        boolean withTopK = k < vocab;
        double z = 0;
        if (!withTopK) {
            for (float l : logits) {
                z += Math.exp(l - max);
            }
        }
        double minPDrop = params.minP() > 0f ? -Math.log(params.minP()) : 0;
        // the candidates' mass is summed in double; a little margin covers the float rounding of probs
        double wantedMass = params.topP() < 1f ? Math.min(1, params.topP() + 1e-6) : 0;
        int m;
        for (double drop = Math.max(8, minPDrop); ; drop *= 2) {
            float cutoff = (float) (max - drop);
            m = 0;
            double mass = 0;
            for (int t = 0; t < vocab; t++) {
                float l = logits[t];
                if (l >= cutoff) {
                    keys[m++] = sortKey(l, t);
                    if (!withTopK) {
                        mass += Math.exp(l - max);
                    }
                }
            }
            boolean enough = withTopK ? m >= k : mass / z >= wantedMass;
            if (enough || m == vocab || Double.isInfinite(drop)) {
                break;
            }
        }
        Arrays.sort(keys, 0, m);
        int n = Math.min(m, k);
        for (int i = 0; i < n; i++) {
            ids[i] = (int) keys[i];
        }
        if (withTopK) {
            softmax(logits, n, 1f);
        } else {
            for (int i = 0; i < n; i++) {
                probs[i] = (float) (Math.exp(logits[ids[i]] - max) / z);
            }
        }
        return n;
    }

    /** A long that sorts ascending as (logit descending, id ascending). */
    private static long sortKey(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | id;
    }

    /** Read by tests: the survivors after {@link #survivors}. */
    int[] ids() {
        return ids;
    }

    /** probs[0 .. n) = softmax of the survivors' logits at a temperature (the survivors need not be sorted). */
    private void softmax(float[] logits, int n, float temperature) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[ids[i]]);
        }
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

    /** Repetition, frequency and presence penalties on the tokens of the recent history, each counted once. */
    private void applyPenalties(float[] logits) {
        for (int i = 0; i < historyCount; i++) {
            recent[i] = history[(historyStart + i) % history.length];
        }
        Arrays.sort(recent, 0, historyCount);
        for (int i = 0; i < historyCount; ) {
            int t = recent[i];
            int count = 1;
            while (i + count < historyCount && recent[i + count] == t) {
                count++;
            }
            i += count;
            if (t < 0 || t >= logits.length) {
                continue;
            }
            float l = logits[t];
            if (params.repetitionPenalty() != 1f) {
                l = l > 0 ? l / params.repetitionPenalty() : l * params.repetitionPenalty();
            }
            l -= count * params.frequencyPenalty() + params.presencePenalty();
            logits[t] = l;
        }
    }
}
