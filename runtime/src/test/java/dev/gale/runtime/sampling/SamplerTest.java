package dev.gale.runtime.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.runtime.backend.Logits;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final int VOCAB = 32_000;

    private static SamplingParams params(float temperature, int topK, float topP, float minP, long seed) {
        return new SamplingParams(temperature, topK, topP, minP, 1f, 64, 0f, 0f, seed);
    }

    /** Logits like a model's: a few strong candidates over a wide, peaky background, with some exact ties. */
    private static float[] logits(long seed, float spread) {
        Random r = new Random(seed);
        float[] l = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            l[i] = (float) (r.nextGaussian() * spread);
        }
        for (int i = 0; i < 20; i++) {
            l[r.nextInt(VOCAB)] = 4 * spread + (float) r.nextGaussian();
        }
        l[7] = l[8] = l[9];
        return l;
    }

    /**
     * The survivors by the definition: every token sorted by logit (ties by id), top-k, then the untempered
     * probabilities (over all tokens, or over the top-k survivors) cut by top-p and min-p.
     */
    private static int[] reference(float[] logits, int topK, float topP, float minP) {
        Integer[] order = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer t) -> -logits[t]).thenComparingInt(t -> t));
        int n = topK > 0 ? Math.min(topK, logits.length) : logits.length;
        float max = logits[order[0]];
        double z = 0;
        for (int i = 0; i < n; i++) {
            z += topK > 0 ? (float) Math.exp(logits[order[i]] - max) : Math.exp(logits[order[i]] - max);
        }
        float[] p = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = topK > 0 ? (float) ((float) Math.exp(logits[order[i]] - max) / z)
                    : (float) (Math.exp(logits[order[i]] - max) / z);
        }
        if (topP < 1f) {
            double cum = 0;
            int keep = n;
            for (int i = 0; i < n; i++) {
                cum += p[i];
                if (cum >= topP) {
                    keep = i + 1;
                    break;
                }
            }
            n = Math.max(1, keep);
        }
        if (minP > 0f) {
            int keep = 1;
            while (keep < n && p[keep] >= p[0] * minP) {
                keep++;
            }
            n = keep;
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = order[i];
        }
        return out;
    }

    @ParameterizedTest(name = "top-k {0}, top-p {1}, min-p {2}, spread {3}")
    @CsvSource({"0, 0.95, 0, 1", "0, 0.95, 0, 3", "0, 0.5, 0, 0.2", "0, 0.999, 0, 1", "0, 1, 0.05, 1",
            "0, 1, 0.001, 0.5", "0, 0.9, 0.01, 2", "40, 0.95, 0, 1", "1000, 0.9, 0, 1", "1000, 1, 0, 0.5",
            "5000, 0.99, 0.01, 1"})
    void keepsExactlyTheTokensTheDefinitionKeeps(int topK, float topP, float minP, float spread) {
        for (long seed = 0; seed < 5; seed++) {
            float[] l = logits(seed, spread);
            Sampler s = new Sampler(params(1f, topK, topP, minP, seed));
            int n = s.survivors(l.clone());
            assertArrayEquals(reference(l, topK, topP, minP), Arrays.copyOf(s.ids(), n), "seed " + seed);
        }
    }

    @Test
    void withoutTruncationEveryTokenSurvives() {
        Sampler s = new Sampler(params(0.7f, 0, 1f, 0f, 1));
        assertEquals(VOCAB, s.survivors(logits(3, 1)));
    }

    @Test
    void drawsFollowTheTemperedDistribution() {
        float[] l = {0f, (float) Math.log(2), (float) Math.log(5), -50f};
        double[] expected = {1 / 8.0, 2 / 8.0, 5 / 8.0, 0};
        Sampler s = new Sampler(params(1f, 0, 1f, 0f, 7));
        int[] counts = new int[4];
        int draws = 40_000;
        for (int i = 0; i < draws; i++) {
            counts[s.sample(l.clone())]++;
        }
        for (int t = 0; t < 4; t++) {
            double sd = Math.sqrt(draws * expected[t] * (1 - expected[t]));
            assertTrue(Math.abs(counts[t] - draws * expected[t]) <= 5 * sd + 1,
                    "token " + t + ": " + counts[t] + " of " + draws);
        }
        // temperature 0.5 squares the odds: 1 : 4 : 25
        Sampler cold = new Sampler(params(0.5f, 0, 1f, 0f, 7));
        int[] coldCounts = new int[4];
        for (int i = 0; i < draws; i++) {
            coldCounts[cold.sample(l.clone())]++;
        }
        double p2 = 25 / 30.0;
        assertTrue(Math.abs(coldCounts[2] - draws * p2) <= 5 * Math.sqrt(draws * p2 * (1 - p2)), "cold " + coldCounts[2]);
    }

    @Test
    void sameSeedSameTokens() {
        float[] l = logits(11, 1);
        Sampler a = new Sampler(params(1f, 0, 0.95f, 0f, 99));
        Sampler b = new Sampler(params(1f, 0, 0.95f, 0f, 99));
        for (int i = 0; i < 50; i++) {
            assertEquals(a.sample(l.clone()), b.sample(l.clone()));
        }
    }

    @Test
    void greedyIsTheArgmax() {
        float[] l = logits(5, 1);
        assertEquals(Logits.argmax(l), new Sampler(SamplingParams.GREEDY).sample(l.clone()));
        assertEquals(Logits.argmax(l), new Sampler(params(1f, 1, 1f, 0f, 3)).sample(l.clone()));
    }

    @Test
    void penaltiesCountEachRecentToken() {
        Sampler s = new Sampler(new SamplingParams(0f, 0, 1f, 0f, 1.5f, 3, 0.2f, 0.1f, 0));
        for (int t : new int[] {9, 5, 5, 7}) {
            s.accept(t);
        }
        // the last 3 tokens count: 5 twice, 7 once; 9 has left the window
        float[] l = {0, 0, 0, 0, 0, 3f, 0, -2f, 0, 4f};
        s.sample(l);
        assertEquals(3f / 1.5f - 2 * 0.1f - 0.2f, l[5], 1e-6);
        assertEquals(-2f * 1.5f - 0.1f - 0.2f, l[7], 1e-6);
        assertEquals(4f, l[9]);
        assertEquals(0f, l[0]);
    }
}
