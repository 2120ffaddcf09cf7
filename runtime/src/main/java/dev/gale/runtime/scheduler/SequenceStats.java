package dev.gale.runtime.scheduler;

/**
 * What one finished request cost.
 *
 * @param promptTokens     tokens in the prompt
 * @param cachedTokens     prompt tokens whose keys and values came from the prefix cache instead of being computed
 * @param generatedTokens  tokens generated (an end token is not counted)
 * @param queueWaitNanos   from submission until the request joined the running batch
 */
public record SequenceStats(int promptTokens, int cachedTokens, int generatedTokens, long queueWaitNanos) {
}
