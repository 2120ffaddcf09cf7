package dev.gale.runtime.bench;

/**
 * Prefill figures at one prompt length.
 *
 * @param requestedTokens        the prompt length asked for
 * @param tokens                 the prompt length run (the requested one clamped to the model's context)
 * @param ttftMs                 time to first token: prefill plus picking the first token, in milliseconds
 * @param prefillTokensPerSecond prompt tokens per second of prefill
 */
public record PromptResult(int requestedTokens, int tokens, Stats ttftMs, Stats prefillTokensPerSecond) {
}
