package dev.gale.tornado.plan;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gale.model.Model;
import dev.gale.model.config.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The device memory plan, worked out from a real model (needs no TornadoVM). */
class MemoryPlanTest {

    private static Path stories() {
        Path p = Path.of(System.getProperty("gale.shared.dir", "../shared"), "models", "stories260K.gguf");
        assumeTrue(Files.isRegularFile(p), "shared test model not found: " + p);
        return p;
    }

    @Test
    void countsWeightsKvCacheAndActivations() throws Exception {
        try (Model model = Model.open(stories())) {
            ModelConfig c = model.config();
            MemoryPlan plan = MemoryPlan.of(c, model.weights(), 256, 1);
            // every tensor is used once on the device (stories260K ties nothing), plus the zero Q/K/V biases
            long tensors = model.weightBytes();
            long biases = 4L * c.layers() * (c.qDim() + c.kvDim() + c.vDim());
            assertTrue(plan.weightBytes() >= tensors + biases, plan.toString());
            assertTrue(plan.weightBytes() < tensors + biases + 64 * 1024, plan.toString());
            long kv = 4L * c.layers() * 256 * (c.kvDim() + c.vDim());
            assertEquals(kv, plan.kvCacheBytes() - 2L * c.layers() * MemoryPlan.ARRAY_HEADER);
            assertTrue(plan.scratchBytes() >= 4L * (c.vocabSize() + c.heads() * 256), plan.toString());
            assertEquals(plan.weightBytes() + plan.kvCacheBytes() + plan.scratchBytes(), plan.totalBytes());
        }
    }

    @Test
    void aModelThatDoesNotFitNamesBothFigures() throws Exception {
        try (Model model = Model.open(stories())) {
            MemoryPlan plan = MemoryPlan.of(model.config(), model.weights(), 256, 1);
            assertDoesNotThrow(() -> plan.requireFits("big device", 1L << 30, 1L << 28));
            DeviceMemoryException e = assertThrows(DeviceMemoryException.class,
                    () -> plan.requireFits("small device", 1L << 20, 1L << 20));
            assertTrue(e.getMessage().contains(MemoryPlan.size(plan.totalBytes())), e.getMessage());
            assertTrue(e.getMessage().contains("small device has 1.0 MiB"), e.getMessage());
            DeviceMemoryException tooBig = assertThrows(DeviceMemoryException.class,
                    () -> plan.requireFits("capped device", 1L << 30, 1024));
            assertTrue(tooBig.getMessage().contains("at most 1.0 KiB per buffer"), tooBig.getMessage());
        }
    }
}
