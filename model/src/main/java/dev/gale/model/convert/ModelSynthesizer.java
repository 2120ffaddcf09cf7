package dev.gale.model.convert;

import dev.gale.model.config.Architecture;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufValue;
import dev.gale.model.gguf.GgufValueType;
import dev.gale.model.gguf.GgufWriter;
import dev.gale.model.tensor.Quantizer;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.IntToDoubleFunction;

/**
 * Writes a model of a real {@link ModelShape} with seeded random weights and the tokenizer of a vocabulary GGUF:
 * the files to benchmark and test with when the real weights are not at hand. Matrices are N(0, 0.02)-like
 * (a 4-term Irwin–Hall approximation), norm weights 1, biases small: with RMSNorm before every matrix this keeps
 * activations and logits of order 1. Every row is seeded from (seed, tensor, row), so the file does not depend on
 * how many threads wrote it.
 */
public final class ModelSynthesizer {
    static final float WEIGHT_SD = 0.02f;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private ModelSynthesizer() {}

    /** What was written: the tensor count and bytes of each type. */
    public record Summary(Map<GgmlType, long[]> byType, long fileBytes) {
    }

    /**
     * Writes {@code out}. 2-D weights take {@code type} (or Q8_0 where a row is not a whole number of {@code type}
     * blocks, F16 where not even of 32), 1-D tensors F32.
     */
    public static Summary write(ModelShape shape, GgmlType type, Path vocabFile, Path out, long seed) throws IOException {
        if (!Quantizer.canQuantize(type)) {
            throw new IllegalArgumentException("cannot write " + type
                    + " weights (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
        }
        return write(shape, MatrixTypes.uniform(type), vocabFile, out, seed);
    }

    /**
     * Writes {@code out} with the matrix types of {@code types} (such as {@link MatrixTypes#Q4_K_M}); as
     * {@link #write(ModelShape, GgmlType, Path, Path, long)} otherwise.
     */
    public static Summary write(ModelShape shape, MatrixTypes types, Path vocabFile, Path out, long seed)
            throws IOException {
        GgmlType type = types.main();
        GgufWriter w = new GgufWriter();
        ModelShape s;
        try (GgufFile vocab = GgufFile.open(vocabFile)) {
            if (!vocab.metadata().contains("tokenizer.ggml.tokens")) {
                throw new IllegalArgumentException(vocabFile + " has no tokenizer.ggml.tokens: not a vocabulary file");
            }
            s = shape.vocab() > 0 ? shape : shape.withVocab(vocabSize(vocab));
            String arch = s.architecture().ggufName();
            w.put("general.architecture", GgufValue.ofString(arch));
            w.put("general.name", GgufValue.ofString("synthetic " + s.name() + " " + types.name()));
            w.put("general.description", GgufValue.ofString("seeded random weights (seed " + seed
                    + ") written by gale synth; tokenizer from " + vocabFile.getFileName()));
            w.put("general.file_type", GgufValue.ofUInt32(types.fileType()));
            if (type.blockSize() > 1) {
                w.put("general.quantization_version", GgufValue.ofUInt32(FileType.QUANTIZATION_VERSION));
            }
            w.put(arch + ".vocab_size", GgufValue.ofUInt32(s.vocab()));
            w.put(arch + ".context_length", GgufValue.ofUInt32(s.contextLength()));
            w.put(arch + ".embedding_length", GgufValue.ofUInt32(s.dim()));
            w.put(arch + ".block_count", GgufValue.ofUInt32(s.layers()));
            w.put(arch + ".feed_forward_length", GgufValue.ofUInt32(s.ffnDim()));
            w.put(arch + ".attention.head_count", GgufValue.ofUInt32(s.heads()));
            w.put(arch + ".attention.head_count_kv", GgufValue.ofUInt32(s.kvHeads()));
            w.put(arch + ".attention.key_length", GgufValue.ofUInt32(s.headDim()));
            w.put(arch + ".attention.value_length", GgufValue.ofUInt32(s.headDim()));
            w.put(arch + ".rope.dimension_count", GgufValue.ofUInt32(s.headDim()));
            w.put(arch + ".rope.freq_base", GgufValue.ofFloat32(s.ropeBase()));
            w.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.ofFloat32(s.rmsEps()));
            copyTokenizer(vocab, s.vocab(), w);
        }
        Tensors t = new Tensors(w, types, s.layers(), s.tiedEmbeddings(), seed);
        t.matrix("token_embd.weight", s.dim(), s.vocab());
        if (s.llama3RopeFactor() > 0) {
            float[] factors = llama3RopeFactors(s);
            t.vector("rope_freqs.weight", factors.length, i -> factors[i]);
        }
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            t.vector(p + "attn_norm.weight", s.dim(), i -> 1f);
            t.matrix(p + "attn_q.weight", s.dim(), s.qDim());
            t.matrix(p + "attn_k.weight", s.dim(), s.kvDim());
            t.matrix(p + "attn_v.weight", s.dim(), s.kvDim());
            if (s.architecture() == Architecture.QWEN2) {
                t.bias(p + "attn_q.bias", s.qDim());
                t.bias(p + "attn_k.bias", s.kvDim());
                t.bias(p + "attn_v.bias", s.kvDim());
            }
            if (s.architecture() == Architecture.QWEN3) {
                t.vector(p + "attn_q_norm.weight", s.headDim(), i -> 1f);
                t.vector(p + "attn_k_norm.weight", s.headDim(), i -> 1f);
            }
            t.matrix(p + "attn_output.weight", s.qDim(), s.dim());
            t.vector(p + "ffn_norm.weight", s.dim(), i -> 1f);
            t.matrix(p + "ffn_gate.weight", s.dim(), s.ffnDim());
            t.matrix(p + "ffn_up.weight", s.dim(), s.ffnDim());
            t.matrix(p + "ffn_down.weight", s.ffnDim(), s.dim());
        }
        t.vector("output_norm.weight", s.dim(), i -> 1f);
        if (!s.tiedEmbeddings()) {
            t.matrix("output.weight", s.dim(), s.vocab());
        }
        w.write(out);
        return new Summary(t.byType, Files.size(out));
    }

    /** Adds tensors with per-tensor seeds and tallies them by type. */
    private static final class Tensors {
        final GgufWriter w;
        final MatrixTypes types;
        final int layers;
        final boolean tied;
        final long seed;
        final Map<GgmlType, long[]> byType = new TreeMap<>();
        int index;

        Tensors(GgufWriter w, MatrixTypes types, int layers, boolean tied, long seed) {
            this.w = w;
            this.types = types;
            this.layers = layers;
            this.tied = tied;
            this.seed = seed;
        }

        void matrix(String name, int cols, int rows) {
            GgmlType t = FileType.storable(types.of(name, layers, tied), cols);
            long tensorSeed = seed * 0x9E3779B97F4A7C15L + (index++) * 0xD1B54A32D192ED03L;
            add(name, t, new long[] {cols, rows}, dst -> Quantizer.quantizeRows(t, rows, cols,
                    (r, row) -> gaussian(new SplittableRandom(tensorSeed + r), row, WEIGHT_SD), dst));
        }

        void bias(String name, int n) {
            long tensorSeed = seed * 0x9E3779B97F4A7C15L + (index++) * 0xD1B54A32D192ED03L;
            float[] values = new float[n];
            gaussian(new SplittableRandom(tensorSeed), values, WEIGHT_SD);
            vector(name, n, i -> values[i]);
        }

        void vector(String name, int n, IntToDoubleFunction value) {
            add(name, GgmlType.F32, new long[] {n}, dst -> {
                for (int i = 0; i < n; i++) {
                    dst.setAtIndex(F32, i, (float) value.applyAsDouble(i));
                }
            });
        }

        private void add(String name, GgmlType t, long[] dims, GgufWriter.TensorData data) {
            w.addTensor(name, t, dims, data);
            long[] acc = byType.computeIfAbsent(t, k -> new long[2]);
            acc[0]++;
            acc[1] += t.byteSize(Arrays.stream(dims).reduce(1, (a, b) -> a * b));
        }
    }

    /** N(0, sd²)-like values: a sum of 4 uniforms from one 64-bit draw, centred and scaled. */
    static void gaussian(SplittableRandom rnd, float[] dst, float sd) {
        float scale = sd * (float) Math.sqrt(3.0) / 65536f;
        for (int i = 0; i < dst.length; i++) {
            long bits = rnd.nextLong();
            long sum = (bits & 0xFFFF) + ((bits >>> 16) & 0xFFFF) + ((bits >>> 32) & 0xFFFF) + (bits >>> 48);
            dst[i] = (sum - 2 * 65536 + 2) * scale;
        }
    }

    /**
     * Llama 3's RoPE frequency factors (original context 8192, low/high frequency factors 1 and 4), as the converter
     * of llama.cpp stores them in {@code rope_freqs.weight}.
     */
    static float[] llama3RopeFactors(ModelShape s) {
        double factor = s.llama3RopeFactor();
        double lowFreqWavelen = 8192 / 1.0;
        double highFreqWavelen = 8192 / 4.0;
        float[] f = new float[s.headDim() / 2];
        for (int i = 0; i < f.length; i++) {
            double freq = 1.0 / Math.pow(s.ropeBase(), 2.0 * i / s.headDim());
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highFreqWavelen) {
                f[i] = 1f;
            } else if (wavelen > lowFreqWavelen) {
                f[i] = (float) factor;
            } else {
                double smooth = (8192 / wavelen - 1.0) / (4.0 - 1.0);
                f[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return f;
    }

    private static int vocabSize(GgufFile vocab) {
        return vocab.metadata().getStringArray("tokenizer.ggml.tokens").length;
    }

    /**
     * Copies every {@code tokenizer.*} key, with the token arrays padded (with unused "[PADn]" tokens) or trimmed to
     * {@code size}; merges that mention a trimmed token are dropped.
     */
    static void copyTokenizer(GgufFile vocab, int size, GgufWriter w) {
        String[] tokens = vocab.metadata().getStringArray("tokenizer.ggml.tokens");
        int have = tokens.length;
        for (Map.Entry<String, GgufValue> e : vocab.metadata().asMap().entrySet()) {
            String key = e.getKey();
            if (!key.startsWith("tokenizer.")) {
                continue;
            }
            GgufValue v = e.getValue();
            if (key.endsWith("_token_id") && v.value() instanceof Long id && id >= size) {
                throw new IllegalArgumentException(vocab.path() + " has " + have + " tokens; the shape needs " + size
                        + ", which would cut " + key + " = " + id);
            }
            w.put(key, switch (key) {
                case "tokenizer.ggml.tokens" -> GgufValue.ofArray(GgufValueType.STRING, resizeTokens(tokens, size));
                case "tokenizer.ggml.scores" -> GgufValue.ofArray(GgufValueType.FLOAT32,
                        Arrays.copyOf(vocab.metadata().getFloatArray(key), size));
                case "tokenizer.ggml.token_type" -> {
                    int[] types = Arrays.copyOf(vocab.metadata().getIntArray(key), size);
                    Arrays.fill(types, Math.min(have, size), size, 5); // UNUSED
                    yield GgufValue.ofArray(v.elementType(), types);
                }
                case "tokenizer.ggml.merges" -> size >= have ? v
                        : GgufValue.ofArray(GgufValueType.STRING, keptMerges(vocab.metadata().getStringArray(key),
                                Arrays.copyOf(tokens, size)));
                default -> v;
            });
        }
    }

    private static String[] resizeTokens(String[] tokens, int size) {
        String[] out = Arrays.copyOf(tokens, size);
        for (int i = tokens.length; i < size; i++) {
            out[i] = "[PAD" + i + "]";
        }
        return out;
    }

    static String[] keptMerges(String[] merges, String[] kept) {
        Set<String> vocab = new HashSet<>(List.of(kept));
        List<String> out = new ArrayList<>();
        for (String m : merges) {
            int sp = m.indexOf(' ', 1);
            if (sp > 0) {
                String a = m.substring(0, sp);
                String b = m.substring(sp + 1);
                if (vocab.contains(a) && vocab.contains(b) && vocab.contains(a + b)) {
                    out.add(m);
                }
            }
        }
        return out.toArray(String[]::new);
    }
}
