package dev.gale.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gale.model.Model;
import dev.gale.runtime.SharedData;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.backend.Logits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compares the CPU backend with llama.cpp's outputs in ../shared/golden.
 *
 * <p>Tolerances, from ../shared/golden/README.md: Gale rounds activations the way ggml does (Q8_0 for Q8_0/Q4_0
 * weights, fp16/bf16 for F16/BF16 weights, the fp16 GELU table), so an independent reimplementation is expected
 * to agree to about 1e-5 with rare rounding-boundary outliers: prompt logits within 1e-3 for F32 files
 * (observed float64 gap ≤ 8.2e-5, plus float32 summation order), 5e-3 for the gemmas (GELU table); for
 * F16/BF16/Q8_0/Q4_0 files see {@link #ROUNDED_PROMPT_MAX}; teacher-forced step logits within 0.3, with the step argmax required to match
 * wherever the golden top1−top2 margin exceeds that tolerance. For F32 files the free-running greedy sequence
 * must be identical.
 */
class GoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Most logits of a file with rounded activations agree to ~1e-5 (README: prompt ≤ 8.3e-6 for Q8_0/Q4_0). */
    private static final double BULK_TOLERANCE = 1e-3;
    /**
     * A float32 summation-order difference can flip one activation across an fp16/Q8_0 rounding boundary; the
     * random-weight network amplifies that to 6e-3..0.27 (README). Such an outlier moves every logit of the rows
     * it reaches, so for these files at least half the values must be within the bulk tolerance and all within this.
     */
    private static final double ROUNDED_PROMPT_MAX = 0.05;

    static Stream<String> goldens() throws IOException {
        Path dir = SharedData.root().resolve("golden");
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldens")
    void matchesLlamaCpp(String goldenName) throws Exception {
        JsonNode g = JSON.readTree(SharedData.golden(goldenName).toFile());
        String modelName = g.get("model").asText();
        Path modelPath = modelName.startsWith("tiny-") ? SharedData.model("tiny/" + modelName) : SharedData.model(modelName);
        assertEquals(g.get("sha256").asText(), sha256(modelPath), "model file differs from the one the golden was made from");

        boolean f32 = modelName.endsWith("f32.gguf") || modelName.equals("stories260K.gguf");
        boolean gemma = g.get("architecture").asText().startsWith("gemma");
        double promptTol = f32 ? (gemma ? 5e-3 : 1e-3) : 1e-2;
        double stepTol = f32 ? promptTol : 0.3;

        int[] prompt = ints(g.get("prompt_tokens"));
        int[] greedy = ints(g.get("greedy_tokens"));
        int vocab = g.get("n_vocab").asInt();
        try (Model model = Model.open(modelPath);
             InferenceEngine engine = new CpuBackendProvider().load(model, new BackendOptions(2, 0, 256));
             InferenceSession session = engine.newSession(256)) {
            float[] logits = session.forward(prompt, true);
            JsonNode rows = g.get("logits");
            double maxDiff = 0;
            int outliers = 0;
            for (int r = 0; r < prompt.length; r++) {
                JsonNode row = rows.get(r);
                for (int i = 0; i < vocab; i++) {
                    double d = Math.abs(logits[r * vocab + i] - row.get(i).floatValue());
                    maxDiff = Math.max(maxDiff, d);
                    if (d > BULK_TOLERANCE) {
                        outliers++;
                    }
                }
            }
            if (f32) {
                assertTrue(maxDiff <= promptTol, "prompt logits differ by " + maxDiff + " > " + promptTol);
            } else {
                double fraction = outliers / (double) (prompt.length * vocab);
                assertTrue(fraction <= 0.5, "prompt logits: " + outliers + " values differ by more than " + BULK_TOLERANCE);
                assertTrue(maxDiff <= ROUNDED_PROMPT_MAX, "prompt logits differ by " + maxDiff + " > " + ROUNDED_PROMPT_MAX);
            }

            // Teacher-forced steps: feed the golden tokens, compare each step's top-5 and argmax.
            float[] last = new float[vocab];
            System.arraycopy(logits, (prompt.length - 1) * vocab, last, 0, vocab);
            List<String> problems = new ArrayList<>();
            double maxStep = 0;
            for (int k = 0; k < greedy.length; k++) {
                if (k > 0) {
                    last = session.decode(greedy[k - 1]);
                }
                JsonNode top = g.get("greedy_step_logits_top5").get(k);
                for (JsonNode e : top) {
                    maxStep = Math.max(maxStep, Math.abs(last[e.get("id").asInt()] - e.get("logit").floatValue()));
                }
                float margin = top.get(0).get("logit").floatValue() - top.get(1).get("logit").floatValue();
                int mine = Logits.argmax(last);
                if (mine != greedy[k] && margin > stepTol) {
                    problems.add("step " + k + ": argmax " + mine + " != " + greedy[k] + " (margin " + margin + ")");
                }
            }
            assertTrue(problems.isEmpty(), String.join("; ", problems));
            assertTrue(maxStep <= stepTol, "step logits differ by " + maxStep + " > " + stepTol);

            if (f32) {
                // Free-running greedy decoding reproduces llama.cpp's sequence exactly.
                session.truncate(0);
                int next = Logits.argmax(session.forward(prompt, false));
                int[] mine = new int[greedy.length];
                for (int k = 0; k < greedy.length; k++) {
                    mine[k] = next;
                    if (k + 1 < greedy.length) {
                        next = session.decodeGreedy(next);
                    }
                }
                org.junit.jupiter.api.Assertions.assertArrayEquals(greedy, mine, "greedy tokens");
            }
        }
    }

    static int[] ints(JsonNode arr) {
        int[] a = new int[arr.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = arr.get(i).asInt();
        }
        return a;
    }

    static String sha256(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        return HexFormat.of().formatHex(md.digest(Files.readAllBytes(p)));
    }
}
