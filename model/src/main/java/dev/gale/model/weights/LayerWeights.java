package dev.gale.model.weights;

import dev.gale.model.tensor.Tensor;

/**
 * The tensors of one transformer block. Optional tensors are null when the architecture does not have them.
 * Matrices are stored as ggml does: {@code dims[0]} = input width, {@code dims[1]} = output rows.
 */
public record LayerWeights(
        Tensor attnNorm,
        Tensor wq, Tensor wk, Tensor wv,
        /** Fused Q/K/V projection (phi3), rows Q then K then V; null when separate. */
        Tensor wqkv,
        Tensor bq, Tensor bk, Tensor bv,
        Tensor qNorm, Tensor kNorm,
        Tensor wo,
        Tensor postAttnNorm,
        Tensor ffnNorm,
        Tensor wGate, Tensor wUp,
        /** Fused gate/up projection (phi3): first half of the rows gate, second half up; null when separate. */
        Tensor wGateUp,
        Tensor wDown,
        Tensor postFfnNorm) {
}
