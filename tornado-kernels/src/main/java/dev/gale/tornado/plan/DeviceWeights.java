package dev.gale.tornado.plan;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.weights.LayerWeights;
import dev.gale.model.weights.ModelWeights;
import dev.gale.tornado.kernels.PackedWeights;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A model's weights in the arrays that go to the device once and stay there. Matrices keep their GGUF encoding
 * where the kernels read it, else become Q8_0 ({@link PackedMatrix}); Q/K/V and gate/up are stacked so that one
 * kernel reads each group. Small vectors (norms, biases, RoPE factors) become floats, as on the CPU.
 */
final class DeviceWeights {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceWeights.class);

    /** One transformer block. Optional vectors are null when the architecture has none. */
    record Layer(FloatArray attnNorm, PackedMatrix qkv, FloatArray qkvBias, FloatArray qNorm, FloatArray kNorm,
                 PackedMatrix wo, FloatArray postAttnNorm, FloatArray ffnNorm, PackedMatrix gateUp, PackedMatrix down,
                 FloatArray postFfnNorm) {
    }

    final PackedMatrix embedding;
    final FloatArray outputNorm;
    /** The output projection; the embedding's own array when the two are tied. */
    final PackedMatrix output;
    final Layer[] layers;
    /** θ divisors per rotated pair: the Llama 3 frequency factors over the linear position scale (1 if none). */
    final FloatArray ropeDivisors;
    /** {@link PackedWeights#powersOfTwo()}. */
    final FloatArray powersOfTwo;
    private int requantized;
    private final Set<GgmlType> requantizedFrom = EnumSet.noneOf(GgmlType.class);

    DeviceWeights(ModelConfig c, ModelWeights w) {
        this.embedding = stack(w.tokenEmbedding());
        this.outputNorm = floats(w.outputNorm());
        this.output = w.output() == w.tokenEmbedding() ? embedding : stack(w.output());
        this.layers = new Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights lw = w.layers().get(l);
            PackedMatrix qkv = lw.wqkv() != null ? stack(lw.wqkv()) : stack(lw.wq(), lw.wk(), lw.wv());
            PackedMatrix gateUp = lw.wGateUp() != null ? stack(lw.wGateUp()) : stack(lw.wGate(), lw.wUp());
            layers[l] = new Layer(floats(lw.attnNorm()), qkv, qkvBias(c, lw), floats(lw.qNorm()), floats(lw.kNorm()),
                    stack(lw.wo()), floats(lw.postAttnNorm()), floats(lw.ffnNorm()), gateUp, stack(lw.wDown()),
                    floats(lw.postFfnNorm()));
        }
        if (!requantizedFrom.isEmpty()) {
            LOG.info("{} weight matrices ({}) requantized to Q8_0 for the device: its kernels read F32, F16, BF16, "
                    + "Q8_0 and Q4_0, and one kernel reads each stacked group", requantized, requantizedFrom);
        }
        this.ropeDivisors = new FloatArray(c.ropeDim() / 2);
        float[] factors = w.ropeFreqs() == null ? null : w.ropeFreqs().toFloatArray();
        for (int i = 0; i < c.ropeDim() / 2; i++) {
            ropeDivisors.set(i, (factors == null ? 1f : factors[i]) / c.ropeScale());
        }
        this.powersOfTwo = PackedWeights.powersOfTwo();
    }

    /** {@link PackedMatrix#stack}, counting the matrices it requantizes and the types it converts. */
    private PackedMatrix stack(Tensor... parts) {
        PackedMatrix m = PackedMatrix.stack(parts);
        if (m.requantized()) {
            requantized++;
            for (Tensor t : parts) {
                if (t.type() != GgmlType.Q8_0) {
                    requantizedFrom.add(t.type());
                }
            }
        }
        return m;
    }

    /** The Q/K/V biases in the stacked row order; zeros when the model has none. */
    private static FloatArray qkvBias(ModelConfig c, LayerWeights lw) {
        FloatArray bias = new FloatArray(c.qDim() + c.kvDim() + c.vDim());
        copy(lw.bq(), bias, 0);
        copy(lw.bk(), bias, c.qDim());
        copy(lw.bv(), bias, c.qDim() + c.kvDim());
        return bias;
    }

    private static void copy(Tensor vector, FloatArray dst, int offset) {
        if (vector != null) {
            float[] v = vector.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                dst.set(offset + i, v[i]);
            }
        }
    }

    /** Every array, each once, for the transfer to the device. */
    List<Object> arrays() {
        List<Object> all = new ArrayList<>();
        all.add(embedding.words());
        all.add(outputNorm);
        if (output != embedding) {
            all.add(output.words());
        }
        for (Layer l : layers) {
            all.add(l.attnNorm());
            all.add(l.qkv().words());
            all.add(l.qkvBias());
            all.add(l.wo().words());
            all.add(l.ffnNorm());
            all.add(l.gateUp().words());
            all.add(l.down().words());
            for (FloatArray optional : new FloatArray[] {l.qNorm(), l.kNorm(), l.postAttnNorm(), l.postFfnNorm()}) {
                if (optional != null) {
                    all.add(optional);
                }
            }
        }
        all.add(ropeDivisors);
        all.add(powersOfTwo);
        return all;
    }

    private static FloatArray floats(Tensor t) {
        return t == null ? null : FloatArray.fromArray(t.toFloatArray());
    }
}
