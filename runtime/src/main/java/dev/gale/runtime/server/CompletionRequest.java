package dev.gale.runtime.server;

import dev.gale.runtime.sampling.SamplingParams;
import java.util.List;

/**
 * A validated completion request.
 *
 * @param prompt         the prompt's token ids
 * @param params         how to sample
 * @param maxTokens      most tokens to generate; generation also ends at the context's end
 * @param stop           strings that end the text (not included in it)
 * @param stream         answer with server-sent events
 * @param ignoreEos      keep generating past end-of-text tokens
 */
record CompletionRequest(int[] prompt, SamplingParams params, int maxTokens, List<String> stop,
                                boolean stream, boolean ignoreEos) {
}
