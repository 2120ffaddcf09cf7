package dev.gale.tornado;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.Model;
import dev.gale.tornado.plan.LaunchGeometry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every kernel of two decoding steps, launched one by one with a GPU's work-group sizes on the test device, gives
 * what its Java code gives on the host ({@link KernelByKernelCheck}): qwen3 for the per-head norms (NEOX RoPE,
 * Q8_0), gemma3 for the post-norms, GELU and soft-capping.
 */
class KernelByKernelCheckTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen3-q8_0.gguf", "tiny-gemma3-q8_0.gguf"})
    void everyKernelMatchesItsJavaCodeAtGpuGeometry(String modelName, TestReporter reporter) throws Exception {
        TornadoAvailability.require();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Model model = Model.open(SharedFiles.modelOf(modelName))) {
            String problem = KernelByKernelCheck.firstProblem(model, TornadoDevices.get(TornadoAvailability.device()),
                    // one group per head: PoCL 3.1 computes the split attention wrongly with groups this large
                    LaunchGeometry.forDevice(true, 1024).withAttentionSplits(1), 2, true,
                    new PrintStream(log, true, StandardCharsets.UTF_8));
            reporter.publishEntry("kernel check", log.toString(StandardCharsets.UTF_8).strip());
            assertNull(problem);
        }
    }

    /**
     * The split attention (GPUs' default, {@code -Dgale.tornado.attentionSplits}): three groups per head, with runs
     * that are empty at the first positions, and gemma3's sliding window of 16 passed (20 steps). At a CPU's group
     * size: PoCL 3.1 computes it wrongly with groups of 32 threads or more, which Oclgrind runs right (no
     * out-of-bounds access, race or uninitialised read).
     */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-q8_0.gguf", "tiny-gemma3-q8_0.gguf"})
    void splitAttentionMatchesItsJavaCode(String modelName, TestReporter reporter) throws Exception {
        TornadoAvailability.require();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setProperty(LaunchGeometry.ATTENTION_SPLITS, "3");
        try (Model model = Model.open(SharedFiles.modelOf(modelName))) {
            PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
            String problem = KernelByKernelCheck.firstProblem(model, TornadoDevices.get(TornadoAvailability.device()),
                    LaunchGeometry.forDevice(false, 1024), 20, true, out);
            String text = log.toString(StandardCharsets.UTF_8);
            reporter.publishEntry("kernel check", text.strip());
            assertNull(problem);
            assertTrue(text.contains("step 19: all"), text);
        } finally {
            System.clearProperty(LaunchGeometry.ATTENTION_SPLITS);
        }
    }
}
