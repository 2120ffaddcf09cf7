package dev.gale.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TokenCostTest {

    @Test
    void dollarsPerMillionTokensFromThroughput() {
        // $3.60/h is $0.001/s; at 1000 tok/s a million tokens take 1000 s: $1.
        assertEquals(1.0, TokenCost.perMillion(3.60, 1000), 1e-12);
        // $2/h at 20 tok/s: 72,000 tokens per hour, so 1M tokens cost 2 × 1e6 / 72,000 = $27.78.
        assertEquals(27.777_777_777_8, TokenCost.perMillion(2.0, 20), 1e-9);
        assertEquals(0.0, TokenCost.perMillion(0, 50));
    }

    @Test
    void inputFromPrefillOutputFromDecode() {
        TokenCost c = TokenCost.of(1.8, 5000, 50);
        assertEquals(0.1, c.inputPerMillion(), 1e-12);
        assertEquals(10.0, c.outputPerMillion(), 1e-12);
    }

    @Test
    void noThroughputIsAnInfiniteCostAndANegativePriceAnError() {
        assertEquals(Double.POSITIVE_INFINITY, TokenCost.perMillion(1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenCost.perMillion(-1, 10));
        assertEquals("price per hour must be >= 0, got -1.0", e.getMessage());
    }

    @Test
    void apiPricesOfTheSeed() {
        assertEquals(new TokenCost.ApiPrice("GPT-4o", 2.50, 10.00), TokenCost.API_PRICES.get(0));
        assertEquals(new TokenCost.ApiPrice("Claude 3.5 Sonnet", 3.00, 15.00), TokenCost.API_PRICES.get(1));
    }
}
