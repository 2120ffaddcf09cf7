package dev.gale.tornado.plan;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.weights.LayerWeights;
import dev.gale.model.weights.ModelWeights;
import dev.gale.tornado.kernels.PackedWeights;

/**
 * What a model needs on the device, worked out before anything is copied: the weights as {@link DeviceWeights}
 * lays them out, the KV cache for {@code capacity} positions, and the activations of one step (with
 * {@code attentionSplits} work-groups per attention head, {@link LaunchGeometry#attentionSplits}).
 *
 * @param weightBytes       weight arrays
 * @param kvCacheBytes      keys and values of every layer
 * @param scratchBytes      activations, attention scores, logits
 * @param largestArrayBytes the largest single array (devices cap one allocation)
 * @param capacity          KV cache positions
 */
public record MemoryPlan(long weightBytes, long kvCacheBytes, long scratchBytes, long largestArrayBytes, int capacity) {
    /** TornadoVM's native arrays carry a header before their data (16 bytes by default; rounded up here). */
    static final long ARRAY_HEADER = 32;

    public static MemoryPlan of(ModelConfig c, ModelWeights w, int capacity, int attentionSplits) {
        long weights = array(bytes(w.tokenEmbedding())) + array(4L * c.dim());
        long largest = Math.max(bytes(w.tokenEmbedding()), bytes(w.output()));
        if (w.output() != w.tokenEmbedding()) {
            weights += array(bytes(w.output()));
        }
        for (LayerWeights lw : w.layers()) {
            long qkv = lw.wqkv() != null ? bytes(lw.wqkv()) : bytes(lw.wq(), lw.wk(), lw.wv());
            long gateUp = lw.wGateUp() != null ? bytes(lw.wGateUp()) : bytes(lw.wGate(), lw.wUp());
            weights += array(qkv) + array(gateUp) + array(bytes(lw.wo())) + array(bytes(lw.wDown()));
            weights += array(4L * (c.qDim() + c.kvDim() + c.vDim())) + 2 * array(4L * c.dim());
            if (lw.postAttnNorm() != null) {
                weights += 2 * array(4L * c.dim());
            }
            if (lw.qNorm() != null) {
                weights += 2 * array(4L * c.headDim());
            }
            largest = Math.max(largest, Math.max(Math.max(qkv, gateUp), bytes(lw.wDown())));
        }
        weights += array(4L * (c.ropeDim() / 2)) + array(4L * PackedWeights.POW2_SIZE);
        long kv = (long) c.layers() * 2 * array(4L * capacity * Math.max(c.kvDim(), c.vDim()));
        // x, xw = x ⊙ norm, delta (gemma's post-norm input), q, attention output, FFN hidden, logits, scores,
        // the argmax's per-group values and indices and its best value
        long scratch = array(4L * c.dim()) * 3 + array(4L * c.qDim()) + array(4L * c.heads() * c.valueDim())
                + array(4L * c.ffnDim()) + array(4L * c.vocabSize()) + array(4L * c.heads() * capacity)
                + 2 * array(4L * DecodeStep.ARGMAX_GROUPS) + 2 * array(4) + 2 * array(8)
                + array(4L * DecodeStep.splitFloats(c, attentionSplits));
        largest = Math.max(largest, 4L * capacity * Math.max(c.kvDim(), c.vDim()));
        return new MemoryPlan(weights, kv, scratch, array(largest), capacity);
    }

    public long totalBytes() {
        return weightBytes + kvCacheBytes + scratchBytes;
    }

    /** Throws {@link DeviceMemoryException} naming both figures when the plan does not fit the device. */
    public void requireFits(String device, long deviceBytes, long maxArrayBytes) {
        if (totalBytes() > deviceBytes) {
            throw new DeviceMemoryException(String.format(
                    "the model needs %s of device memory (weights %s, KV cache for %d positions %s, activations %s) "
                            + "but %s has %s; use a smaller --ctx-size, a smaller or more quantized model, or another --device",
                    size(totalBytes()), size(weightBytes), capacity, size(kvCacheBytes), size(scratchBytes), device,
                    size(deviceBytes)));
        }
        if (maxArrayBytes > 0 && largestArrayBytes > maxArrayBytes) {
            throw new DeviceMemoryException(String.format(
                    "the model's largest weight array needs %s in one buffer but %s allocates at most %s per buffer",
                    size(largestArrayBytes), device, size(maxArrayBytes)));
        }
    }

    /** Bytes of the GGUF data of {@code parts}. */
    /** Device bytes of a matrix made of {@code parts} ({@link PackedMatrix#deviceBytes}: requantized or not). */
    static long bytes(Tensor... parts) {
        return PackedMatrix.deviceBytes(parts);
    }

    private static long array(long dataBytes) {
        return dataBytes + ARRAY_HEADER;
    }

    static String size(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format("%.2f GiB", bytes / (double) (1L << 30));
        }
        return bytes >= 1L << 20 ? String.format("%.1f MiB", bytes / (double) (1L << 20))
                : String.format("%.1f KiB", bytes / 1024.0);
    }
}
