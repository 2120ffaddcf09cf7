package dev.gale.runtime.scheduler;

import dev.gale.runtime.sampling.SamplingParams;
import java.util.Set;

/**
 * One completion to compute.
 *
 * @param prompt    prompt token ids (at least one)
 * @param params    how to sample
 * @param maxTokens most tokens to generate (at least 1)
 * @param endTokens ids that end generation
 * @param observer  receives the tokens and the outcome
 */
public record GenerationRequest(int[] prompt, SamplingParams params, int maxTokens, Set<Integer> endTokens,
                                SequenceObserver observer) {
    public GenerationRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
        }
    }
}
