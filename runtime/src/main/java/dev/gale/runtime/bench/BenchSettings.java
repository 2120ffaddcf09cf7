package dev.gale.runtime.bench;

import java.util.List;

/**
 * What one benchmark run measures.
 *
 * @param promptTokens prompt lengths to time prefill and time to first token at, kept in ascending order without
 *                     repeats (each is clamped to the model's context when run)
 * @param decodeTokens tokens to decode greedily after the shortest prompt
 * @param warmup       untimed repetitions before the measured ones (the first one's load time is kept as the
 *                     cold load time)
 * @param reps         measured repetitions; figures are reported as median, min and max over them
 * @param seed         seed of the random prompt token ids
 */
public record BenchSettings(List<Integer> promptTokens, int decodeTokens, int warmup, int reps, long seed) {

    public BenchSettings {
        promptTokens = promptTokens.stream().distinct().sorted().toList();
        if (promptTokens.isEmpty()) {
            throw new IllegalArgumentException("give at least one prompt length");
        }
        for (int p : promptTokens) {
            if (p < 1) {
                throw new IllegalArgumentException("prompt lengths must be >= 1, got " + p);
            }
        }
        if (decodeTokens < 1) {
            throw new IllegalArgumentException("decode tokens must be >= 1, got " + decodeTokens);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("warm-up repetitions must be >= 0, got " + warmup);
        }
        if (reps < 1) {
            throw new IllegalArgumentException("repetitions must be >= 1, got " + reps);
        }
    }
}
