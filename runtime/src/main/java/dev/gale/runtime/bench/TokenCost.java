package dev.gale.runtime.bench;

import java.util.List;

/**
 * Dollars per million tokens on hardware rented by the hour, from measured throughput: at {@code r} tokens per
 * second an hour yields {@code 3600 r} tokens, so a million tokens cost {@code price / (3600 r) × 10⁶}.
 *
 * @param inputPerMillion  $ per 1M prompt tokens, from prefill throughput
 * @param outputPerMillion $ per 1M generated tokens, from decode throughput
 */
public record TokenCost(double inputPerMillion, double outputPerMillion) {

    /** Hosted API list prices to compare with (USD per 1M input / output tokens). */
    public static final List<ApiPrice> API_PRICES = List.of(
            new ApiPrice("GPT-4o", 2.50, 10.00),
            new ApiPrice("Claude 3.5 Sonnet", 3.00, 15.00));

    /** A hosted model's price per 1M input and output tokens. */
    public record ApiPrice(String name, double inputPerMillion, double outputPerMillion) {
    }

    public static TokenCost of(double pricePerHour, double prefillTokensPerSecond, double decodeTokensPerSecond) {
        return new TokenCost(perMillion(pricePerHour, prefillTokensPerSecond),
                perMillion(pricePerHour, decodeTokensPerSecond));
    }

    /** $ per 1M tokens at {@code tokensPerSecond}; infinite when nothing was produced. */
    public static double perMillion(double pricePerHour, double tokensPerSecond) {
        if (pricePerHour < 0) {
            throw new IllegalArgumentException("price per hour must be >= 0, got " + pricePerHour);
        }
        return tokensPerSecond > 0 ? pricePerHour / (tokensPerSecond * 3600) * 1e6 : Double.POSITIVE_INFINITY;
    }
}
