package dev.gale.model.weights;

import dev.gale.model.Model;
import dev.gale.model.config.Architecture;
import dev.gale.model.config.ModelConfig;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufFormatException;
import dev.gale.model.tensor.Tensor;
import java.util.List;

/**
 * Every weight of a model, bound by role from the GGUF tensor names, with shapes checked against the config.
 *
 * @param tokenEmbedding {@code token_embd.weight} [dim, vocab]
 * @param outputNorm     final RMSNorm weight
 * @param output         output projection [dim, vocab]; the token embedding when tied
 * @param ropeFreqs      per-dimension RoPE frequency factors (Llama 3 rope scaling), or null
 * @param layers         the transformer blocks
 */
public record ModelWeights(Tensor tokenEmbedding, Tensor outputNorm, Tensor output, Tensor ropeFreqs,
                           List<LayerWeights> layers) {

    public static ModelWeights bind(Model model) {
        ModelConfig c = model.config();
        Binder b = new Binder(model);
        Tensor embd = b.req("token_embd.weight", c.dim(), c.vocabSize());
        Tensor outNorm = b.req("output_norm.weight", c.dim());
        Tensor output = b.opt("output.weight", c.dim(), c.vocabSize());
        if (output == null) {
            output = embd;
        }
        Tensor ropeFreqs = b.opt("rope_freqs.weight", c.ropeDim() / 2);
        Architecture a = c.architecture();
        LayerWeights[] layers = new LayerWeights[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            boolean fusedQkv = a == Architecture.PHI3 && b.has(p + "attn_qkv.weight");
            boolean fusedUp = a == Architecture.PHI3 && !b.has(p + "ffn_gate.weight");
            boolean qkBias = a == Architecture.QWEN2;
            boolean qkNorm = a == Architecture.QWEN3 || a == Architecture.GEMMA3;
            boolean postNorms = a.isGemma();
            layers[l] = new LayerWeights(
                    b.req(p + "attn_norm.weight", c.dim()),
                    fusedQkv ? null : b.req(p + "attn_q.weight", c.dim(), c.qDim()),
                    fusedQkv ? null : b.req(p + "attn_k.weight", c.dim(), c.kvDim()),
                    fusedQkv ? null : b.req(p + "attn_v.weight", c.dim(), c.vDim()),
                    fusedQkv ? b.req(p + "attn_qkv.weight", c.dim(), c.qDim() + c.kvDim() + c.vDim()) : null,
                    qkBias ? b.req(p + "attn_q.bias", c.qDim()) : b.opt(p + "attn_q.bias", c.qDim()),
                    qkBias ? b.req(p + "attn_k.bias", c.kvDim()) : b.opt(p + "attn_k.bias", c.kvDim()),
                    qkBias ? b.req(p + "attn_v.bias", c.vDim()) : b.opt(p + "attn_v.bias", c.vDim()),
                    qkNorm ? b.req(p + "attn_q_norm.weight", c.headDim()) : null,
                    qkNorm ? b.req(p + "attn_k_norm.weight", c.headDim()) : null,
                    b.req(p + "attn_output.weight", c.heads() * c.valueDim(), c.dim()),
                    postNorms ? b.req(p + "post_attention_norm.weight", c.dim()) : null,
                    b.req(p + "ffn_norm.weight", c.dim()),
                    fusedUp ? null : b.req(p + "ffn_gate.weight", c.dim(), c.ffnDim()),
                    fusedUp ? null : b.req(p + "ffn_up.weight", c.dim(), c.ffnDim()),
                    fusedUp ? b.req(p + "ffn_up.weight", c.dim(), 2L * c.ffnDim()) : null,
                    b.req(p + "ffn_down.weight", c.ffnDim(), c.dim()),
                    postNorms ? b.req(p + "post_ffw_norm.weight", c.dim()) : null);
        }
        return new ModelWeights(embd, outNorm, output, ropeFreqs, List.of(layers));
    }

    /** Every tensor that a forward pass reads (the token embedding once, even when tied). */
    public long bytesPerToken() {
        long n = output.data().byteSize() + outputNorm.data().byteSize();
        for (LayerWeights l : layers) {
            for (Tensor t : new Tensor[] {l.attnNorm(), l.wq(), l.wk(), l.wv(), l.wqkv(), l.bq(), l.bk(), l.bv(),
                    l.qNorm(), l.kNorm(), l.wo(), l.postAttnNorm(), l.ffnNorm(), l.wGate(), l.wUp(), l.wGateUp(),
                    l.wDown(), l.postFfnNorm()}) {
                if (t != null) {
                    n += t.data().byteSize();
                }
            }
        }
        return n;
    }

    private record Binder(Model model) {
        boolean has(String name) {
            return model.gguf().hasTensor(name);
        }

        Tensor req(String name, long... dims) {
            Tensor t = opt(name, dims);
            if (t == null) {
                throw new GgufFormatException(model.path(), "tensor '" + name + "'",
                        "required by the " + model.config().architecture().ggufName() + " architecture but missing");
            }
            return t;
        }

        Tensor opt(String name, long... dims) {
            Tensor t = model.findTensor(name).orElse(null);
            if (t == null) {
                return null;
            }
            long[] actual = t.dims();
            boolean ok = actual.length >= dims.length;
            for (int i = 0; ok && i < actual.length; i++) {
                long want = i < dims.length ? dims[i] : 1;
                ok = actual[i] == want;
            }
            if (!ok) {
                throw new GgufFormatException(model.path(), "tensor '" + name + "'", "shape "
                        + java.util.Arrays.toString(actual) + " does not match the configuration, expected "
                        + java.util.Arrays.toString(dims));
            }
            if (!t.type().isSupportedForCompute()) {
                throw new GgufFormatException(model.path(), "tensor '" + name + "'", "type " + t.type()
                        + " is not supported (supported: " + GgmlType.supportedForCompute() + ")");
            }
            return t;
        }
    }
}
