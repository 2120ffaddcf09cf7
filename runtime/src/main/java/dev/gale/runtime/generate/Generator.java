package dev.gale.runtime.generate;

import dev.gale.runtime.backend.ContextOverflowException;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.sampling.Sampler;
import dev.gale.runtime.sampling.SamplingParams;
import java.util.Arrays;
import java.util.Set;

/** The decode loop: prefill the prompt, then sample and feed back one token at a time. */
public final class Generator {
    private Generator() {}

    /**
     * Generates after {@code prompt}, which is appended to whatever the session already holds.
     *
     * @param maxTokens upper bound on generated tokens; generation also stops at an end token, when the listener
     *                  returns false, or when the context is full
     * @param endTokens ids that end generation (not passed to the listener)
     */
    public static GenerationResult generate(InferenceSession session, int[] prompt, SamplingParams params,
                                            int maxTokens, Set<Integer> endTokens, TokenListener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token");
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max tokens must be >= 0, got " + maxTokens);
        }
        if (session.position() + prompt.length > session.contextLength()) {
            throw new ContextOverflowException(session.position(), prompt.length, session.contextLength());
        }
        Sampler sampler = new Sampler(params);
        // plain argmax needs no logits on the host: the backend may pick the token where the logits are
        boolean greedyOnDevice = params.isGreedy() && !params.hasPenalties();
        for (int t : prompt) {
            sampler.accept(t);
        }
        long start = System.nanoTime();
        int[] out = new int[Math.max(16, Math.min(maxTokens, 4096))];
        int count = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        if (maxTokens == 0) {
            session.forward(prompt, false);
            long t = System.nanoTime() - start;
            return new GenerationResult(new int[0], reason, new GenerationMetrics(prompt.length, 0, t, t, 0));
        }
        float[] logits = session.forward(prompt, false);
        long prefillEnd = System.nanoTime();
        int next = sampler.sample(logits);
        long firstToken = System.nanoTime();
        while (true) {
            if (endTokens.contains(next)) {
                reason = StopReason.END_OF_TEXT;
                break;
            }
            if (count == out.length) {
                out = Arrays.copyOf(out, out.length * 2);
            }
            out[count++] = next;
            sampler.accept(next);
            if (!listener.onToken(next)) {
                reason = StopReason.CANCELLED;
                break;
            }
            if (count >= maxTokens) {
                reason = StopReason.MAX_TOKENS;
                break;
            }
            if (session.position() >= session.contextLength()) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            if (greedyOnDevice) {
                next = session.decodeGreedy(next);
            } else {
                logits = session.decode(next);
                next = sampler.sample(logits);
            }
        }
        long end = System.nanoTime();
        GenerationMetrics m = new GenerationMetrics(prompt.length, count, firstToken - start, prefillEnd - start,
                count > 1 ? end - firstToken : 0);
        return new GenerationResult(Arrays.copyOf(out, count), reason, m);
    }
}
