package dev.gale.runtime.generate;

/**
 * The outcome of one generation.
 *
 * @param tokens     the generated ids (the end token, if one stopped generation, is not included)
 * @param stopReason why it ended
 * @param metrics    timings
 */
public record GenerationResult(int[] tokens, StopReason stopReason, GenerationMetrics metrics) {
}
