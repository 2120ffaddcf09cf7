package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.weights.ModelWeights;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Runs the matrix kernels of each weight type a model uses on a few rows of its own weights, on every path (one
 * activation row, a small batch, and a large one), until the JIT has had reason to compile them. Without it, the first tokens of a
 * large model run in the interpreter and lower tiers: about 4 s for the first token of a 1B model. The work is a
 * few thousand dot products per type, a small fraction of one token.
 */
final class KernelWarmUp {
    /** Weight rows per product: enough for several row claims per thread. */
    private static final int ROWS = 64;
    /** Products per path: the kernels' loops then pass the JIT's compile thresholds several times over. */
    private static final int DECODE_PRODUCTS = 400;
    private static final int BATCH_PRODUCTS = 100;
    /** A batch of 40 tokens runs each batched kernel: BlockGemm's pair of 16-token tiles and its single tile. */
    private static final int BATCH_TOKENS = 40;
    /** A batch of 4 tokens runs the token path of the kernels that have one ({@link WeightKernel#maxTokenRows}). */
    private static final int SMALL_BATCH_TOKENS = MatMul.TOKEN_ROWS_MIN;

    private KernelWarmUp() {}

    /** Warms the kernels of every weight type of {@code weights}; returns the time it took in milliseconds. */
    static long run(ModelWeights weights, MatMul matMul) {
        long start = System.nanoTime();
        for (Tensor w : oneTensorPerType(weights).values()) {
            warm(w, matMul);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    /** The first matrix of each type, from the first block and the output projection. */
    private static Map<GgmlType, Tensor> oneTensorPerType(ModelWeights weights) {
        Map<GgmlType, Tensor> byType = new EnumMap<>(GgmlType.class);
        Stream<Tensor> blockMatrices = weights.layers().stream().limit(1).flatMap(l -> Stream.of(l.wq(), l.wk(),
                l.wv(), l.wqkv(), l.wo(), l.wGate(), l.wUp(), l.wGateUp(), l.wDown()));
        Stream.concat(blockMatrices, Stream.of(weights.output()))
                .filter(t -> t != null && t.dims().length == 2)
                .forEach(t -> byType.putIfAbsent(t.type(), t));
        return byType;
    }

    private static void warm(Tensor w, MatMul matMul) {
        int width = w.rowLength();
        int rows = Math.min(ROWS, w.rows());
        Random rnd = new Random(width);
        ActivationRows one = new ActivationRows(1, width);
        ActivationRows batch = new ActivationRows(BATCH_TOKENS, width);
        for (int i = 0; i < batch.values().length; i++) {
            batch.values()[i] = (float) rnd.nextGaussian();
        }
        System.arraycopy(batch.values(), 0, one.values(), 0, width);
        float[] out = new float[BATCH_TOKENS * rows];
        for (int i = 0; i < DECODE_PRODUCTS; i++) {
            one.set(1);
            matMul.apply(w, one, out, 0, rows, rows, 0);
        }
        for (int i = 0; i < BATCH_PRODUCTS; i++) {
            batch.set(SMALL_BATCH_TOKENS);
            matMul.apply(w, batch, out, 0, rows, rows, 0);
        }
        for (int i = 0; i < BATCH_PRODUCTS; i++) {
            batch.set(BATCH_TOKENS);
            matMul.apply(w, batch, out, 0, rows, rows, 0);
        }
    }
}
