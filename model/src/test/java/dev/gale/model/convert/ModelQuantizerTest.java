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

    /**
     * Rows of 256 or more: the output projection of a Q4_K file is Q6_K, as llama-quantize makes it (the tied
     * embedding here); Q4_K_M also puts Q6_K in attn_v and ffn_down of the layers that get more bits (of 8: 0, 3, 6, 7).
     * The quantized weights stay near the F16 model's.
     */
    @Test
    void outputProjectionIsQ6_KAndQ4_K_MFollowsLlamaQuantize() throws IOException {
        ModelShape shape = new ModelShape("q", dev.gale.model.config.Architecture.LLAMA, 256, 8, 4, 2, 64, 512, 0, 256,
                10000f, 1e-5f, true, 0f);
        Path f16 = dir.resolve("f16.gguf");
        ModelSynthesizer.write(shape, GgmlType.F16, SharedTestData.model("vocab/ggml-vocab-llama-spm.gguf"), f16, 5);
        Path q4k = dir.resolve("q4k.gguf");
        Path mix = dir.resolve("mix.gguf");
        ModelQuantizer.quantize(f16, q4k, GgmlType.Q4_K);
        ModelQuantizer.quantize(f16, mix, MatrixTypes.Q4_K_M);
        try (GgufFile a = GgufFile.open(q4k); GgufFile b = GgufFile.open(mix); Model m = Model.open(mix);
             Model source = Model.open(f16)) {
            assertEquals(GgmlType.Q6_K, a.tensor("token_embd.weight").type());
            assertEquals(GgmlType.Q4_K, a.tensor("blk.0.attn_v.weight").type());
            assertEquals(14, a.metadata().getInt("general.file_type"));
            assertEquals(15, b.metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q6_K, b.tensor("token_embd.weight").type());
            for (int l = 0; l < 8; l++) {
                GgmlType expected = l == 0 || l == 3 || l == 6 || l == 7 ? GgmlType.Q6_K : GgmlType.Q4_K;
                assertEquals(expected, b.tensor("blk." + l + ".attn_v.weight").type(), "attn_v " + l);
                assertEquals(expected, b.tensor("blk." + l + ".ffn_down.weight").type(), "ffn_down " + l);
                assertEquals(GgmlType.Q4_K, b.tensor("blk." + l + ".ffn_up.weight").type(), "ffn_up " + l);
            }
            float[] original = source.weights().layers().get(3).wDown().toFloatArray(); // Q6_K
            float[] quantized = m.weights().layers().get(3).wDown().toFloatArray();
            double err = 0;
            double energy = 0;
            for (int i = 0; i < original.length; i++) {
                err += (quantized[i] - original[i]) * (quantized[i] - original[i]);
                energy += original[i] * original[i];
            }
            assertTrue(Math.sqrt(err / energy) < 0.04, "relative RMS error " + Math.sqrt(err / energy));
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
