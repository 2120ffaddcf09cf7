package dev.gale.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.gale.model.Model;
import dev.gale.model.convert.ModelShape;
import dev.gale.model.gguf.GgmlType;
import dev.gale.runtime.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SyntheticModelsTest {

    @Test
    void writesAShapeForTheRunAndDeletesItAfter() throws Exception {
        Path file;
        try (SyntheticModels synthetic = new SyntheticModels()) {
            file = synthetic.write(ModelShape.TINY, GgmlType.Q4_0, SharedData.model("stories260K.gguf"), 3);
            assertEquals("tiny-Q4_0.gguf", file.getFileName().toString());
            try (Model m = Model.open(file)) {
                ModelInfo info = ModelInfo.of(m);
                assertEquals("Q4_0", info.weightType());
                assertEquals("tiny-Q4_0", info.label());
                assertEquals(64, m.config().dim());
                assertEquals(512, m.config().vocabSize(), "the vocabulary file's size");
            }
        }
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(file.getParent()));
    }
}
