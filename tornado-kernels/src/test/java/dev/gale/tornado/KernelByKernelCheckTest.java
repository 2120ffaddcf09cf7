package dev.gale.tornado;

import static org.junit.jupiter.api.Assertions.assertNull;

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
                    LaunchGeometry.forDevice(true, 1024), 2, true, new PrintStream(log, true, StandardCharsets.UTF_8));
            reporter.publishEntry("kernel check", log.toString(StandardCharsets.UTF_8).strip());
            assertNull(problem);
        }
    }
}
