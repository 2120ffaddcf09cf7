package dev.gale.model.config;

import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufFormatException;
import dev.gale.model.gguf.GgufMetadata;
import dev.gale.model.gguf.GgufTensorInfo;

/**
 * The hyperparameters of a transformer, read from GGUF metadata ({@code <arch>.*} keys).
 *
 * @param architecture        model family
 * @param name                {@code general.name}, or the file name
 * @param dim                 embedding width
 * @param layers              number of transformer blocks
 * @param heads               query heads
 * @param kvHeads             key/value heads (grouped-query attention when fewer than heads)
 * @param headDim             width of a query/key head
 * @param valueDim            width of a value head
 * @param ffnDim              hidden width of the feed-forward network
 * @param contextLength       trained context length
 * @param vocabSize           number of token embeddings
 * @param rmsEps              RMSNorm epsilon
 * @param ropeBase            RoPE frequency base (global layers)
 * @param ropeBaseLocal       RoPE frequency base of sliding-window layers (gemma3), else ropeBase
 * @param ropeDim             number of rotated dimensions per head
 * @param ropeScale           linear RoPE position scale (1 = none)
 * @param slidingWindow       sliding-window size, 0 for none
 * @param slidingWindowPattern every n-th layer is global, the others local (0 = all layers use the window if set)
 * @param attnSoftcap         attention-score soft-capping, 0 for none
 * @param finalSoftcap        output-logit soft-capping, 0 for none
 */
public record ModelConfig(
        Architecture architecture,
        String name,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int valueDim,
        int ffnDim,
        int contextLength,
        int vocabSize,
        float rmsEps,
        float ropeBase,
        float ropeBaseLocal,
        int ropeDim,
        float ropeScale,
        int slidingWindow,
        int slidingWindowPattern,
        float attnSoftcap,
        float finalSoftcap) {

    public static ModelConfig fromGguf(GgufFile gguf) {
        GgufMetadata md = gguf.metadata();
        String archName = md.getString("general.architecture");
        Architecture arch = Architecture.fromGguf(archName);
        if (arch == null) {
            throw new UnsupportedModelException(gguf.path() + ": architecture '" + archName
                    + "' is not supported (supported: " + Architecture.supportedNames() + ")");
        }
        String p = archName + ".";
        int dim = md.getInt(p + "embedding_length");
        int layers = md.getInt(p + "block_count");
        int heads = firstOf(md, p + "attention.head_count", gguf);
        int kvHeads = md.contains(p + "attention.head_count_kv") ? firstOf(md, p + "attention.head_count_kv", gguf) : heads;
        int headDim = md.getInt(p + "attention.key_length", heads > 0 ? dim / heads : 0);
        int valueDim = md.getInt(p + "attention.value_length", headDim);
        int ffnDim = firstOf(md, p + "feed_forward_length", gguf);
        int ctx = md.getInt(p + "context_length");
        float eps = md.getFloat(p + "attention.layer_norm_rms_epsilon", 1e-5f);
        float ropeBase = md.getFloat(p + "rope.freq_base", 10000f);
        float ropeBaseLocal = md.getFloat(p + "rope.freq_base_swa", arch == Architecture.GEMMA3 ? 10000f : ropeBase);
        int ropeDim = md.getInt(p + "rope.dimension_count", headDim);
        float ropeScale = 1f;
        String scalingType = md.getString(p + "rope.scaling.type", "none");
        if (scalingType.equals("linear")) {
            float factor = md.getFloat(p + "rope.scaling.factor", 1f);
            ropeScale = factor > 0 ? 1f / factor : 1f;
        } else if (!scalingType.equals("none") && !scalingType.equals("llama3")) {
            throw new UnsupportedModelException(gguf.path() + ": RoPE scaling type '" + scalingType
                    + "' is not supported (supported: none, linear, llama3)");
        }
        int window = md.getInt(p + "attention.sliding_window", 0);
        int pattern = md.getInt(p + "attention.sliding_window_pattern", arch.isGemma() ? (arch == Architecture.GEMMA3 ? 6 : 2) : 0);
        float attnCap = md.getFloat(p + "attn_logit_softcapping", 0f);
        float finalCap = md.getFloat(p + "final_logit_softcapping", 0f);

        GgufTensorInfo embd = gguf.tensor("token_embd.weight");
        if (embd == null) {
            throw new GgufFormatException(gguf.path(), "token_embd.weight", "the model has no token embedding tensor");
        }
        int vocab = Math.toIntExact(embd.dimension(1));
        String name = md.getString("general.name", gguf.path().getFileName().toString());

        ModelConfig c = new ModelConfig(arch, name, dim, layers, heads, kvHeads, headDim, valueDim, ffnDim, ctx, vocab,
                eps, ropeBase, ropeBaseLocal, ropeDim, ropeScale, window, pattern, attnCap, finalCap);
        c.validate(gguf);
        return c;
    }

    private static int firstOf(GgufMetadata md, String key, GgufFile gguf) {
        int[] v = md.findIntOrIntArray(key).orElseThrow(
                () -> new GgufFormatException(gguf.path(), key, "required metadata key is missing"));
        if (v.length == 0) {
            throw new GgufFormatException(gguf.path(), key, "empty array");
        }
        for (int x : v) {
            if (x != v[0]) {
                throw new UnsupportedModelException(gguf.path() + ": " + key + " varies per layer, which is not supported");
            }
        }
        return v[0];
    }

    private void validate(GgufFile gguf) {
        check(gguf, dim > 0 && dim <= 1 << 16, "embedding_length", dim);
        check(gguf, layers > 0 && layers <= 1024, "block_count", layers);
        check(gguf, heads > 0 && heads <= 1024, "attention.head_count", heads);
        check(gguf, kvHeads > 0 && kvHeads <= heads && heads % kvHeads == 0, "attention.head_count_kv", kvHeads);
        check(gguf, headDim > 0 && headDim <= 1024 && headDim % 2 == 0, "attention.key_length", headDim);
        check(gguf, valueDim > 0 && valueDim <= 1024, "attention.value_length", valueDim);
        check(gguf, ffnDim > 0, "feed_forward_length", ffnDim);
        check(gguf, contextLength > 0, "context_length", contextLength);
        check(gguf, ropeDim > 0 && ropeDim <= headDim && ropeDim % 2 == 0, "rope.dimension_count", ropeDim);
        check(gguf, rmsEps > 0 && rmsEps < 1, "attention.layer_norm_rms_epsilon", rmsEps);
    }

    private void check(GgufFile gguf, boolean ok, String key, Object value) {
        if (!ok) {
            throw new GgufFormatException(gguf.path(), architecture.ggufName() + "." + key,
                    "value " + value + " is not valid for this model");
        }
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int vDim() {
        return kvHeads * valueDim;
    }

    /** True if layer {@code l} attends through a sliding window. */
    public boolean isLocalLayer(int l) {
        if (slidingWindow <= 0) {
            return false;
        }
        if (slidingWindowPattern <= 0) {
            return true;
        }
        return (l + 1) % slidingWindowPattern != 0;
    }
}
