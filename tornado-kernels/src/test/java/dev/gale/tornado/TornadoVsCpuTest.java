package dev.gale.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.Model;
import dev.gale.model.gguf.GgmlType;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.backend.Logits;
import dev.gale.runtime.cpu.CpuBackendProvider;
import dev.gale.tornado.plan.MemoryPlan;
import java.nio.file.Path;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The device's packed-weight kernels against the CPU backend, on a synthesized model with wider rows than the
 * shared tiny files (several units per thread, several attention groups). The device runs the packed file; the
 * CPU runs the same model written with those weights dequantized to F32, where it keeps F32 activations as the
 * device does. So the two compute the same function and differ only by float32 summation order: with logits of
 * about 0.5 that is ~1e-6, allowed 1e-4; and the greedy choice must agree wherever the top two logits are more
 * than twice that apart. The k-quants, which the device holds requantized to Q8_0, are compared with the CPU on
 * the values of that Q8_0.
 */
class TornadoVsCpuTest {
    private static final SyntheticLlama.Shape SHAPE = new SyntheticLlama.Shape(256, 2, 8, 2, 768, 1024, 512);
    private static final int[] TOKENS = {1, 5, 9, 200, 1000, 3, 77, 512, 640, 2};
    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void packedKernelsMatchTheCpuOnTheDequantizedWeights(String type, @TempDir Path dir, TestReporter reporter)
            throws Exception {
        TornadoBackendProvider tornado = TornadoAvailability.require();
        Path packed = dir.resolve("synthetic-" + type + ".gguf");
        Path dequantized = dir.resolve("synthetic-" + type + "-as-f32.gguf");
        SyntheticLlama.write(packed, SHAPE, GgmlType.valueOf(type), 7, false);
        SyntheticLlama.write(dequantized, SHAPE, GgmlType.valueOf(type), 7, true);
        int vocab = SHAPE.vocab();
        try (Model f32 = Model.open(dequantized);
             Model model = Model.open(packed);
             InferenceEngine cpu = new CpuBackendProvider().load(f32, new BackendOptions(1, 0, 64));
             InferenceEngine device = tornado.load(model, new BackendOptions(0, TornadoAvailability.device(), 64));
             InferenceSession expected = cpu.newSession(64);
             InferenceSession actual = device.newSession(64)) {
            float[] a = expected.forward(TOKENS, true);
            float[] b = actual.forward(TOKENS, true);
            double max = 0;
            double largest = 0;
            for (int i = 0; i < a.length; i++) {
                max = Math.max(max, Math.abs(a[i] - b[i]));
                largest = Math.max(largest, Math.abs(a[i]));
            }
            reporter.publishEntry("max |Δlogit|", String.format("%.3g of logits up to %.3g", max, largest));
            assertTrue(largest > 0.1, type + ": the logits are degenerate (largest " + largest + ")");
            assertTrue(max <= TOLERANCE, type + ": logits differ by " + max + " > " + TOLERANCE);
            for (int r = 0; r < TOKENS.length; r++) {
                int want = Logits.argmax(a, r * vocab, vocab);
                float margin = a[r * vocab + want] - secondLargest(a, r * vocab, vocab, want);
                if (margin > 2 * TOLERANCE) {
                    assertEquals(want, Logits.argmax(b, r * vocab, vocab), "row " + r);
                }
            }
            // the memory plan, made before loading, covers what the device holds (its array headers are rounded up)
            long held = device.deviceMemoryBytes().orElseThrow();
            long planned = MemoryPlan.of(model.config(), model.weights(), 64, 1).totalBytes();
            assertTrue(planned >= held && planned - held < 4096, "planned " + planned + ", held " + held);
            // the device's own argmax picks the token its logits say
            float[] next = actual.decode(7);
            actual.truncate(actual.position() - 1);
            assertEquals(Logits.argmax(next), actual.decodeGreedy(7));
        }
    }

    private static float secondLargest(float[] v, int offset, int n, int skip) {
        float best = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (i != skip) {
                best = Math.max(best, v[offset + i]);
            }
        }
        return best;
    }
}
