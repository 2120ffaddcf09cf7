package dev.gale.runtime.generate;

/**
 * Timings of one generation.
 *
 * @param promptTokens    tokens prefilled
 * @param generatedTokens tokens produced
 * @param timeToFirstTokenNanos from the start of prefill to the first generated token
 * @param prefillNanos    prefill time
 * @param decodeNanos     time spent producing the tokens after the first
 */
public record GenerationMetrics(int promptTokens, int generatedTokens, long timeToFirstTokenNanos, long prefillNanos,
                                long decodeNanos) {

    public double prefillTokensPerSecond() {
        return prefillNanos > 0 ? promptTokens * 1e9 / prefillNanos : 0;
    }

    /** Tokens after the first, per second of decoding (the first token comes out of the prefill). */
    public double decodeTokensPerSecond() {
        return decodeNanos > 0 && generatedTokens > 1 ? (generatedTokens - 1) * 1e9 / decodeNanos : 0;
    }

    public double timeToFirstTokenMillis() {
        return timeToFirstTokenNanos / 1e6;
    }

    /** One line for the end of a run. */
    public String summary() {
        return String.format("prompt tokens: %d, generated tokens: %d, time to first token: %.1f ms, "
                        + "prefill: %.1f tok/s, decode: %.1f tok/s",
                promptTokens, generatedTokens, timeToFirstTokenMillis(), prefillTokensPerSecond(),
                decodeTokensPerSecond());
    }
}
