package dev.gale.runtime.chat;

import dev.gale.runtime.generate.GenerationMetrics;
import dev.gale.runtime.generate.StopReason;

/**
 * One exchange: the user's message in, the assistant's reply out.
 *
 * @param reply           the reply text, as streamed
 * @param promptTokens    tokens of the whole rendered conversation up to the reply
 * @param reusedTokens    of those, the tokens the KV cache already held from earlier turns
 * @param prefilledTokens of those, the tokens run through the model for this turn ({@code promptTokens - reusedTokens})
 * @param generatedTokens tokens of the reply
 * @param stopReason      why the reply ended
 * @param metrics         timings of the prefill and the reply
 */
public record ChatTurn(String reply, int promptTokens, int reusedTokens, int prefilledTokens, int generatedTokens,
                       StopReason stopReason, GenerationMetrics metrics) {

    /** One line for the end of a reply: reuse, time to first token, speeds. */
    public String summary() {
        return String.format("%d tokens, %.0f ms to first token, %.1f tok/s (prompt: %d reused + %d prefilled, %.1f tok/s)",
                generatedTokens, metrics.timeToFirstTokenMillis(), metrics.decodeTokensPerSecond(), reusedTokens,
                prefilledTokens, metrics.prefillTokensPerSecond());
    }
}
