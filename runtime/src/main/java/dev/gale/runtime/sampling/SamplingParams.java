package dev.gale.runtime.sampling;

/**
 * How the next token is chosen from the logits. Defaults follow llama.cpp.
 *
 * @param temperature       0 (or less) means greedy
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              keep the smallest set with cumulative probability ≥ p (1 = off)
 * @param minP              drop tokens less likely than minP × the top probability (0 = off)
 * @param repetitionPenalty divide positive / multiply negative logits of recent tokens (1 = off)
 * @param repeatLastN       how many recent tokens the penalties look at (0 = off, -1 = the whole context)
 * @param presencePenalty   subtracted once from each recent token's logit (0 = off)
 * @param frequencyPenalty  subtracted per occurrence of each recent token (0 = off)
 * @param seed              random seed; the same seed gives the same text
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty,
                             int repeatLastN, float presencePenalty, float frequencyPenalty, long seed) {

    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 0L);

    public SamplingParams {
        if (Float.isNaN(temperature) || temperature < 0) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0)) {
            throw new IllegalArgumentException("repetition penalty must be > 0, got " + repetitionPenalty);
        }
        if (repeatLastN < -1) {
            throw new IllegalArgumentException("repeat-last-n must be >= -1, got " + repeatLastN);
        }
        if (Float.isNaN(presencePenalty) || Float.isNaN(frequencyPenalty)) {
            throw new IllegalArgumentException("penalties must be numbers");
        }
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05. */
    public static SamplingParams defaults(long seed) {
        return new SamplingParams(0.8f, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f, seed);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }

    public boolean hasPenalties() {
        return repeatLastN != 0 && (repetitionPenalty != 1f || presencePenalty != 0f || frequencyPenalty != 0f);
    }

    public SamplingParams withTemperature(float t) {
        return new SamplingParams(t, topK, topP, minP, repetitionPenalty, repeatLastN, presencePenalty, frequencyPenalty, seed);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, repeatLastN, presencePenalty, frequencyPenalty, s);
    }
}
