package dev.gale.model.convert;

import dev.gale.model.config.Architecture;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The hyperparameters of a model to synthesize: the shape of a real model (its tensors, their sizes, and the
 * metadata that describes them), without its weights.
 *
 * @param name             preset name
 * @param architecture     llama, qwen2 (q/k/v biases) or qwen3 (per-head q/k norms)
 * @param dim              embedding width
 * @param layers           transformer blocks
 * @param heads            query heads
 * @param kvHeads          key/value heads
 * @param headDim          width of a head
 * @param ffnDim           feed-forward hidden width
 * @param vocab            vocabulary size; 0 takes the vocabulary file's size
 * @param contextLength    trained context length (metadata only)
 * @param ropeBase         RoPE frequency base
 * @param rmsEps           RMSNorm epsilon
 * @param tiedEmbeddings   whether the output projection is the token embedding (no {@code output.weight})
 * @param llama3RopeFactor Llama 3 RoPE scaling factor, giving a {@code rope_freqs.weight} tensor; 0 for none
 */
public record ModelShape(String name, Architecture architecture, int dim, int layers, int heads, int kvHeads,
                         int headDim, int ffnDim, int vocab, int contextLength, float ropeBase, float rmsEps,
                         boolean tiedEmbeddings, float llama3RopeFactor) {

    public static final ModelShape LLAMA_3_2_1B = new ModelShape("llama-3.2-1b", Architecture.LLAMA,
            2048, 16, 32, 8, 64, 8192, 128256, 131072, 500000f, 1e-5f, true, 32f);
    public static final ModelShape LLAMA_3_2_3B = new ModelShape("llama-3.2-3b", Architecture.LLAMA,
            3072, 28, 24, 8, 128, 8192, 128256, 131072, 500000f, 1e-5f, true, 32f);
    public static final ModelShape LLAMA_3_1_8B = new ModelShape("llama-3.1-8b", Architecture.LLAMA,
            4096, 32, 32, 8, 128, 14336, 128256, 131072, 500000f, 1e-5f, false, 8f);
    public static final ModelShape QWEN2_5_0_5B = new ModelShape("qwen2.5-0.5b", Architecture.QWEN2,
            896, 24, 14, 2, 64, 4864, 151936, 32768, 1000000f, 1e-6f, true, 0f);
    public static final ModelShape QWEN3_0_6B = new ModelShape("qwen3-0.6b", Architecture.QWEN3,
            1024, 28, 16, 8, 128, 3072, 151936, 40960, 1000000f, 1e-6f, true, 0f);
    /** A small llama for tests: the vocabulary file decides the vocabulary size. */
    public static final ModelShape TINY = new ModelShape("tiny", Architecture.LLAMA,
            64, 2, 4, 2, 16, 128, 0, 256, 10000f, 1e-5f, false, 0f);

    public static final List<ModelShape> PRESETS = List.of(LLAMA_3_2_1B, LLAMA_3_2_3B, LLAMA_3_1_8B, QWEN2_5_0_5B,
            QWEN3_0_6B, TINY);

    public ModelShape {
        if (architecture != Architecture.LLAMA && architecture != Architecture.QWEN2 && architecture != Architecture.QWEN3) {
            throw new IllegalArgumentException("cannot synthesize the " + architecture.ggufName()
                    + " architecture (supported: llama, qwen2, qwen3)");
        }
        check(dim > 0, "dim", dim);
        check(layers > 0, "layers", layers);
        check(heads > 0, "heads", heads);
        check(kvHeads > 0 && heads % kvHeads == 0, "kv-heads (must divide heads)", kvHeads);
        check(headDim > 0 && headDim % 2 == 0, "head-dim (must be even)", headDim);
        check(ffnDim > 0, "ffn", ffnDim);
        check(vocab >= 0, "vocab", vocab);
        check(contextLength > 0, "context", contextLength);
    }

    private static void check(boolean ok, String what, int value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid " + what + ": " + value);
        }
    }

    /** The preset of this name. */
    public static ModelShape named(String name) {
        for (ModelShape s : PRESETS) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown shape '" + name + "' (known: " + presetNames() + ")");
    }

    public static String presetNames() {
        return PRESETS.stream().map(ModelShape::name).collect(Collectors.joining(", "));
    }

    /** This shape with the given values replaced (null keeps a value). */
    public ModelShape with(Integer dim, Integer layers, Integer heads, Integer kvHeads, Integer headDim, Integer ffnDim,
                           Integer vocab) {
        int h = heads != null ? heads : this.heads;
        int d = dim != null ? dim : this.dim;
        // a new width or head count keeps heads × headDim = dim unless the head width is given
        int hd = headDim != null ? headDim : (dim != null || heads != null) ? d / h : this.headDim;
        return new ModelShape(name + "-custom", architecture, d, layers != null ? layers : this.layers, h,
                kvHeads != null ? kvHeads : Math.min(this.kvHeads, h), hd, ffnDim != null ? ffnDim : this.ffnDim,
                vocab != null ? vocab : this.vocab, contextLength, ropeBase, rmsEps, tiedEmbeddings, llama3RopeFactor);
    }

    /** This shape with another vocabulary size (same name). */
    public ModelShape withVocab(int size) {
        return new ModelShape(name, architecture, dim, layers, heads, kvHeads, headDim, ffnDim, size, contextLength,
                ropeBase, rmsEps, tiedEmbeddings, llama3RopeFactor);
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }
}
