package dev.gale.runtime.chat;

/**
 * Totals of a chat since it started.
 *
 * @param turns           replies produced
 * @param contextTokens   tokens the KV cache holds now
 * @param contextLength   the KV cache's capacity
 * @param reusedTokens    prompt tokens taken from the cache instead of prefilled, over all turns
 * @param prefilledTokens prompt tokens run through the model, over all turns
 * @param generatedTokens reply tokens, over all turns
 */
public record ChatStats(int turns, int contextTokens, int contextLength, long reusedTokens, long prefilledTokens,
                        long generatedTokens) {

    public String summary() {
        return String.format("%d turns; context %d / %d tokens; prompt tokens %d reused, %d prefilled; %d generated",
                turns, contextTokens, contextLength, reusedTokens, prefilledTokens, generatedTokens);
    }
}
