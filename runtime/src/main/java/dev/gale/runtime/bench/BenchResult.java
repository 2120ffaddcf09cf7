package dev.gale.runtime.bench;

import java.util.List;

/**
 * Every figure measured for one model on one target.
 *
 * @param model                 the model
 * @param target                backend, device and threads
 * @param contextLength         KV cache length of the measured sessions
 * @param coldLoadMs            load time of the first (warm-up) repetition: the one that pays for class loading, JIT
 *                              or kernel compilation; equal to the first measured load when there is no warm-up
 * @param loadMs                open the model, page its weights in, load it on the backend, run the first forward pass
 * @param prompts               prefill at each prompt length
 * @param decodeTokens          tokens decoded (after {@code decodeStart} prompt tokens)
 * @param decodeStart           position decoding started at
 * @param decodeTokensPerSecond greedy decode throughput
 * @param peakHostBytes         peak host memory during a repetition (see {@link BenchReport#hostMemory()})
 * @param peakDeviceBytes       peak device memory the backend reported, or null when it reports none
 * @param cost                  $ per 1M tokens at the report's price per hour, or null without a price
 */
public record BenchResult(ModelInfo model, BenchTarget target, int contextLength, double coldLoadMs, Stats loadMs,
                          List<PromptResult> prompts, int decodeTokens, int decodeStart, Stats decodeTokensPerSecond,
                          Stats peakHostBytes, Stats peakDeviceBytes, TokenCost cost) {

    public BenchResult {
        prompts = List.copyOf(prompts);
    }

    /** The prefill figures at the longest prompt: the ones charts and costs use. */
    public PromptResult longestPrompt() {
        return prompts.getLast();
    }
}
