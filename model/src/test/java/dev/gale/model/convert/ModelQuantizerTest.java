package dev.gale.model.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.Model;
import dev.gale.model.SharedTestData;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufTensorInfo;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requantizing tiny-llama-f32 reproduces the files llama-quantize made from it. */
class ModelQuantizerTest {
    @TempDir
    Path dir;

    @Test
    void q8_0MatchesLlamaQuantize() throws IOException {
        assertSameTensors(GgmlType.Q8_0, "tiny/tiny-llama-q8_0.gguf", 7);
    }

    /** Including the output projection, which both make Q8_0 (llama-quantize's fallback from Q6_K for 64 columns). */
    @Test
    void q4_0MatchesLlamaQuantize() throws IOException {
        assertSameTensors(GgmlType.Q4_0, "tiny/tiny-llama-q4_0.gguf", 2);
    }

    private void assertSameTensors(GgmlType type, String reference, int fileType) throws IOException {
        Path out = dir.resolve("q.gguf");
        ModelQuantizer.Summary summary = ModelQuantizer.quantize(SharedTestData.model("tiny/tiny-llama-f32.gguf"), out, type);
        assertEquals(5, summary.byType().get(GgmlType.F32)[0]);
        try (GgufFile mine = GgufFile.open(out); GgufFile ref = GgufFile.open(SharedTestData.model(reference))) {
            assertEquals(ref.tensors().size(), mine.tensors().size());
            for (GgufTensorInfo r : ref.tensors()) {
                GgufTensorInfo m = mine.tensor(r.name());
                assertEquals(r.type(), m.type(), r.name());
                assertArrayEquals(r.dimensions(), m.dimensions(), r.name());
                assertArrayEquals(ref.tensorData(r).toArray(ValueLayout.JAVA_BYTE),
                        mine.tensorData(m).toArray(ValueLayout.JAVA_BYTE), r.name());
            }
            assertEquals(fileType, mine.metadata().getInt("general.file_type"));
            assertEquals(2, mine.metadata().getInt("general.quantization_version"));
            assertEquals(ref.metadata().getString("tokenizer.ggml.model"), mine.metadata().getString("tokenizer.ggml.model"));
        }
        try (Model m = Model.open(out)) {
            assertEquals(64, m.config().dim());
        }
    }

    @Test
    void f16InputsWork() throws IOException {
        Path out = dir.resolve("f16-q8.gguf");
        ModelQuantizer.quantize(SharedTestData.model("tiny/tiny-llama-f16.gguf"), out, GgmlType.Q8_0);
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals(GgmlType.Q8_0, g.tensor("blk.0.ffn_up.weight").type());
            assertEquals(GgmlType.F32, g.tensor("blk.0.ffn_norm.weight").type());
        }
    }

    @Test
    void refusesQuantizedInputAndUnsupportedTargets() {
        Path q8 = SharedTestData.model("tiny/tiny-llama-q8_0.gguf");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelQuantizer.quantize(q8, dir.resolve("x.gguf"), GgmlType.Q4_0));
        assertTrue(e.getMessage().contains("is Q8_0; quantize from an F32, F16 or BF16 model"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelQuantizer.quantize(q8, dir.resolve("x.gguf"), GgmlType.Q3_K));
        assertTrue(e.getMessage().contains("cannot quantize to Q3_K"), e.getMessage());
    }
}
