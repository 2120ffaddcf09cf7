package dev.gale.model.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.Model;
import dev.gale.model.SharedTestData;
import dev.gale.model.config.Architecture;
import dev.gale.model.config.ModelConfig;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufValue;
import dev.gale.model.gguf.GgufWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSynthesizerTest {
    @TempDir
    Path dir;

    private Path spm() {
        return SharedTestData.model("vocab/ggml-vocab-llama-spm.gguf");
    }

    @Test
    void tinyModelHasTheShapeAndTheVocabulary() throws IOException {
        Path out = dir.resolve("tiny.gguf");
        ModelSynthesizer.write(ModelShape.TINY, GgmlType.Q8_0, spm(), out, 1);
        try (Model m = Model.open(out); GgufFile vocab = GgufFile.open(spm())) {
            ModelConfig c = m.config();
            assertEquals(Architecture.LLAMA, c.architecture());
            assertEquals(64, c.dim());
            assertEquals(2, c.layers());
            assertEquals(4, c.heads());
            assertEquals(2, c.kvHeads());
            assertEquals(128, c.ffnDim());
            assertEquals(32000, c.vocabSize());
            assertEquals(GgmlType.Q8_0, m.weights().layers().get(0).wq().type());
            assertEquals(GgmlType.F32, m.weights().layers().get(0).attnNorm().type());
            assertArrayEquals(vocab.metadata().getStringArray("tokenizer.ggml.tokens"),
                    m.gguf().metadata().getStringArray("tokenizer.ggml.tokens"));
            assertEquals(vocab.metadata().getInt("tokenizer.ggml.bos_token_id"),
                    m.gguf().metadata().getInt("tokenizer.ggml.bos_token_id"));
            // N(0, 0.02)-like weights, norms 1
            float[] w = m.weights().layers().get(1).wGate().toFloatArray();
            double mean = Arrays.stream(toDouble(w)).average().orElseThrow();
            double sd = Math.sqrt(Arrays.stream(toDouble(w)).map(v -> (v - mean) * (v - mean)).average().orElseThrow());
            assertEquals(0, mean, 0.002);
            assertEquals(0.02, sd, 0.002);
            for (float v : m.weights().outputNorm().toFloatArray()) {
                assertEquals(1f, v);
            }
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void theSeedDecidesTheWeights() throws IOException {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        Path c = dir.resolve("c.gguf");
        ModelSynthesizer.write(ModelShape.TINY, GgmlType.F16, spm(), a, 7);
        ModelSynthesizer.write(ModelShape.TINY, GgmlType.F16, spm(), b, 7);
        ModelSynthesizer.write(ModelShape.TINY, GgmlType.F16, spm(), c, 8);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
    }

    /**
     * Q4_K_M: Q6_K for the output projection and for attn_v and ffn_down of the layers that get more bits (of 16:
     * 0, 1, 4, 7, 10, 13, 14, 15), Q4_K elsewhere; the file type says so, and the weights stay near their N(0, 0.02)
     * values through the 6-bit quantizer.
     */
    @Test
    void q4_K_MPutsQ6_KWhereLlamaQuantizeDoes() throws IOException {
        ModelShape shape = new ModelShape("mix", Architecture.LLAMA, 256, 16, 4, 2, 64, 512, 0, 256, 10000f, 1e-5f,
                false, 0f);
        Path out = dir.resolve("mix.gguf");
        ModelSynthesizer.write(shape, MatrixTypes.Q4_K_M, spm(), out, 3);
        java.util.Set<Integer> moreBits = java.util.Set.of(0, 1, 4, 7, 10, 13, 14, 15);
        try (Model m = Model.open(out)) {
            assertEquals(15, m.gguf().metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q6_K, m.weights().output().type());
            assertEquals(GgmlType.Q4_K, m.gguf().tensor("token_embd.weight").type());
            for (int l = 0; l < 16; l++) {
                var layer = m.weights().layers().get(l);
                GgmlType expected = moreBits.contains(l) ? GgmlType.Q6_K : GgmlType.Q4_K;
                assertEquals(expected, layer.wv().type(), "attn_v of layer " + l);
                assertEquals(expected, layer.wDown().type(), "ffn_down of layer " + l);
                assertEquals(GgmlType.Q4_K, layer.wq().type(), "attn_q of layer " + l);
                assertEquals(GgmlType.Q4_K, layer.wGate().type(), "ffn_gate of layer " + l);
            }
            float[] w = m.weights().layers().get(0).wDown().toFloatArray();
            double sd = Math.sqrt(Arrays.stream(toDouble(w)).map(v -> v * v).average().orElseThrow());
            assertEquals(0.02, sd, 0.002);
        }
    }

    @Test
    void q4_K_MWithTiedEmbeddingsPutsTheEmbeddingInQ6_K() {
        assertEquals(GgmlType.Q6_K, MatrixTypes.Q4_K_M.of("token_embd.weight", 28, true));
        assertEquals(GgmlType.Q4_K, MatrixTypes.Q4_K_M.of("token_embd.weight", 28, false));
        // 28 layers: more bits below 3, from 24 on, and where (layer - 3) % 3 == 2
        assertEquals(GgmlType.Q6_K, MatrixTypes.Q4_K_M.of("blk.2.ffn_down.weight", 28, false));
        assertEquals(GgmlType.Q4_K, MatrixTypes.Q4_K_M.of("blk.3.ffn_down.weight", 28, false));
        assertEquals(GgmlType.Q6_K, MatrixTypes.Q4_K_M.of("blk.5.attn_v.weight", 28, false));
        assertEquals(GgmlType.Q4_K, MatrixTypes.Q4_K_M.of("blk.6.attn_v.weight", 28, false));
        assertEquals(GgmlType.Q4_K, MatrixTypes.Q4_K_M.of("blk.5.attn_k.weight", 28, false));
        assertEquals(GgmlType.Q6_K, MatrixTypes.Q4_K_M.of("blk.24.attn_v.weight", 28, false));
        assertEquals(GgmlType.Q8_0, MatrixTypes.uniform(GgmlType.Q8_0).of("output.weight", 28, false));
        assertEquals(MatrixTypes.Q4_K_M, MatrixTypes.parse("q4_k_m"));
        assertEquals(GgmlType.Q6_K, MatrixTypes.parse("Q6_K").main());
        assertEquals(MatrixTypes.Q5_K_M, MatrixTypes.parse("Q5_K_M"));
        assertEquals(GgmlType.Q6_K, MatrixTypes.Q5_K_M.of("blk.0.ffn_down.weight", 16, false));
        assertEquals(GgmlType.Q5_K, MatrixTypes.Q5_K_M.of("blk.2.ffn_down.weight", 16, false));
        assertEquals(GgmlType.Q5_K, MatrixTypes.Q5_K_M.of("blk.0.ffn_up.weight", 16, false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MatrixTypes.parse("Q3_K_M"));
        assertTrue(e.getMessage().contains("Q3_K_M") && e.getMessage().contains("Q5_K_M"), e.getMessage());
    }

    @Test
    void synthesisKeepsOneTypeWhereQuantizingPutsTheOutputInQ6_K() {
        MatrixTypes q4_0 = MatrixTypes.uniform(GgmlType.Q4_0);
        assertEquals(GgmlType.Q4_0, q4_0.of("output.weight", 16, false));
        assertEquals(GgmlType.Q6_K, q4_0.withQuantizeOutput().of("output.weight", 16, false));
        assertEquals(GgmlType.Q6_K, q4_0.withQuantizeOutput().of("token_embd.weight", 16, true));
        assertEquals(GgmlType.Q4_0, q4_0.withQuantizeOutput().of("token_embd.weight", 16, false));
        assertEquals(GgmlType.Q4_0, q4_0.withQuantizeOutput().of("blk.0.ffn_down.weight", 16, false));
        assertEquals(GgmlType.Q6_K, MatrixTypes.uniform(GgmlType.Q5_K).withQuantizeOutput().of("output.weight", 16, false));
        assertEquals(GgmlType.Q8_0, MatrixTypes.uniform(GgmlType.Q8_0).withQuantizeOutput().of("output.weight", 16, false));
        assertEquals(MatrixTypes.Q4_K_M, MatrixTypes.Q4_K_M.withQuantizeOutput());
    }

    @Test
    void qwenShapesGetBiasesOrHeadNorms() throws IOException {
        ModelShape small2 = ModelShape.QWEN2_5_0_5B.with(64, 1, 4, 2, null, 256, null);
        ModelShape small3 = ModelShape.QWEN3_0_6B.with(64, 1, 4, 2, 32, 256, null);
        Path q2 = dir.resolve("q2.gguf");
        Path q3 = dir.resolve("q3.gguf");
        Path qwenVocab = SharedTestData.model("vocab/vocab-qwen2-bpe.derived.gguf");
        ModelSynthesizer.write(small2, GgmlType.Q4_K, qwenVocab, q2, 1);
        ModelSynthesizer.write(small3, GgmlType.Q4_0, qwenVocab, q3, 1);
        try (Model m = Model.open(q2)) {
            assertEquals(Architecture.QWEN2, m.config().architecture());
            assertEquals(151936, m.config().vocabSize());
            assertTrue(m.gguf().hasTensor("blk.0.attn_q.bias"));
            assertFalse(m.gguf().hasTensor("output.weight"));
            assertEquals(GgmlType.Q4_K, m.weights().layers().get(0).wDown().type()); // 256 columns
            assertEquals(GgmlType.Q8_0, m.weights().layers().get(0).wq().type()); // 64 columns: Q4_K does not fit
        }
        try (Model m = Model.open(q3)) {
            assertEquals(Architecture.QWEN3, m.config().architecture());
            assertEquals(32, m.config().headDim());
            assertEquals(128, m.config().qDim());
            assertTrue(m.gguf().hasTensor("blk.0.attn_k_norm.weight"));
        }
    }

    @Test
    void llama3ShapesGetRopeFrequencyFactors() {
        float[] f = ModelSynthesizer.llama3RopeFactors(ModelShape.LLAMA_3_2_1B);
        assertEquals(32, f.length);
        assertEquals(1f, f[0]);
        assertEquals(32f, f[31]);
        for (int i = 1; i < f.length; i++) {
            assertTrue(f[i] >= f[i - 1], "factors rise with wavelength");
        }
    }

    @Test
    void vocabularyIsPaddedOrTrimmedConsistently() throws IOException {
        Path gpt2 = SharedTestData.model("vocab/ggml-vocab-gpt-2.gguf");
        Path padded = dir.resolve("padded.gguf");
        Path trimmed = dir.resolve("trimmed.gguf");
        ModelSynthesizer.write(ModelShape.TINY.withVocab(50300), GgmlType.F32, gpt2, padded, 1);
        // gpt-2's bos/eos is 50256, so trimming below that is refused ...
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelSynthesizer.write(ModelShape.TINY.withVocab(1000), GgmlType.F32, gpt2, trimmed, 1));
        assertTrue(e.getMessage().contains("token_id = 50256"), e.getMessage());
        // ... while the SentencePiece vocabulary (specials 0..2) trims fine
        ModelSynthesizer.write(ModelShape.TINY.withVocab(1000), GgmlType.F32, spm(), trimmed, 1);
        try (GgufFile p = GgufFile.open(padded); GgufFile t = GgufFile.open(trimmed)) {
            String[] tokens = p.metadata().getStringArray("tokenizer.ggml.tokens");
            assertEquals(50300, tokens.length);
            assertEquals("[PAD50299]", tokens[50299]);
            assertEquals(50300, p.metadata().getIntArray("tokenizer.ggml.token_type").length);
            assertEquals(5, p.metadata().getIntArray("tokenizer.ggml.token_type")[50299]);
            assertEquals(1000, t.metadata().getStringArray("tokenizer.ggml.tokens").length);
            assertEquals(1000, t.metadata().getFloatArray("tokenizer.ggml.scores").length);
        }
    }

    @Test
    void trimmedMergesOnlyNameKeptTokens() {
        String[] kept = {"a", "b", "ab", "c"};
        assertEquals(List.of("a b"), List.of(ModelSynthesizer.keptMerges(new String[] {"a b", "ab c", "b c"}, kept)));
    }

    @Test
    void rejectsFilesWithoutAVocabularyAndUnwritableTypes() throws IOException {
        Path noVocab = dir.resolve("no-vocab.gguf");
        new GgufWriter().put("general.architecture", GgufValue.ofString("llama")).write(noVocab);
        Path out = dir.resolve("x.gguf");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelSynthesizer.write(ModelShape.TINY, GgmlType.Q8_0, noVocab, out, 1));
        assertTrue(e.getMessage().contains("not a vocabulary file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelSynthesizer.write(ModelShape.TINY, GgmlType.Q3_K, spm(), out, 1));
        assertTrue(e.getMessage().contains("cannot write Q3_K"), e.getMessage());
        assertFalse(Files.exists(out));
    }
}
