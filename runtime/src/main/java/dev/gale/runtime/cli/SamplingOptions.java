package dev.gale.runtime.cli;

import dev.gale.runtime.sampling.SamplingParams;
import picocli.CommandLine.Option;

/** The sampling options of the commands that generate text. */
final class SamplingOptions {
    @Option(names = {"-t", "--temperature"}, defaultValue = "0.8", description = "Sampling temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "Top-k; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "Top-p (nucleus); 1 = off (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", description = "Min-p; 0 = off (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "Repetition penalty; 1 = off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "64", description = "Tokens the repetition penalty looks back over (default: ${DEFAULT-VALUE}).")
    int repeatLastN;

    @Option(names = {"-s", "--seed"}, description = "Random seed (default: random). The same seed gives the same text.")
    Long seed;

    /** The parameters; an unset seed becomes a time-based one. */
    SamplingParams params() {
        long s = seed != null ? seed : System.nanoTime();
        return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN, 0f, 0f, s);
    }
}
