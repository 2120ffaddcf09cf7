package dev.gale.runtime.cpu;

import dev.gale.model.Model;
import dev.gale.model.config.ModelConfig;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.weights.LayerWeights;
import dev.gale.model.weights.ModelWeights;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.BatchedSession;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model on the pure-Java CPU backend. Large weights stay in the memory-mapped file and are read in their packed
 * form, except the Q4_0, Q4_K, Q5_K and Q6_K matrices, copied once into the layout of their faster kernel, and the block
 * scales of the Q8_0 matrices, copied as floats ({@link RepackedMatrices});
 * only the small vectors (norm weights, biases, RoPE factors) are copied to float arrays.
 */
public final class CpuInferenceEngine implements InferenceEngine {
    private static final Logger LOG = LoggerFactory.getLogger(CpuInferenceEngine.class);
    /** Whether a new engine warms up its kernels ({@link KernelWarmUp}); {@code -Dgale.cpu.warmup=false} skips it. */
    private static final boolean WARM_UP = !"false".equals(System.getProperty("gale.cpu.warmup"));
    /** The largest share of the available memory the repacked matrices may take. */
    private static final double REPACK_MEMORY_SHARE = 0.8;

    final Model model;
    final ModelConfig config;
    final ModelWeights weights;
    final WorkerPool pool;
    /** Copies of the Q4_0, Q4_K, Q5_K and Q6_K matrices, and Q8_0's scales ({@link RepackedMatrices#NONE} if off). */
    final RepackedMatrices repacked;
    final int defaultContext;
    final float[] outputNorm;
    final float[] ropeFreqs;
    final Layer[] layers;

    /** A block's small tensors as floats, next to its matrices. */
    record Layer(LayerWeights w, float[] attnNorm, float[] ffnNorm, float[] postAttnNorm, float[] postFfnNorm,
                 float[] qNorm, float[] kNorm, float[] bq, float[] bk, float[] bv) {
    }

    public CpuInferenceEngine(Model model, BackendOptions options) {
        this.model = model;
        this.config = model.config();
        this.weights = model.weights();
        this.pool = new WorkerPool(options.effectiveThreads());
        int ctx = options.contextLength() > 0 ? options.contextLength()
                : Math.min(config.contextLength(), BackendOptions.DEFAULT_CONTEXT);
        this.defaultContext = ctx;
        this.outputNorm = floats(weights.outputNorm());
        this.ropeFreqs = floats(weights.ropeFreqs());
        this.layers = new Layer[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights w = weights.layers().get(l);
            layers[l] = new Layer(w, floats(w.attnNorm()), floats(w.ffnNorm()), floats(w.postAttnNorm()),
                    floats(w.postFfnNorm()), floats(w.qNorm()), floats(w.kNorm()), floats(w.bq()), floats(w.bk()),
                    floats(w.bv()));
        }
        this.repacked = repack(weights, pool);
        if (WARM_UP) {
            long ms = KernelWarmUp.run(weights, newMatMul());
            LOG.debug("kernels warmed up in {} ms", ms);
        }
    }

    /**
     * The repacked copies of the model's Q4_0, Q4_K, Q5_K and Q6_K matrices ({@link RepackedMatrices}), unless turned off or
     * unless they would take more than 80 % ({@link #REPACK_MEMORY_SHARE}) of the memory the system has available:
     * the copies cannot be paged out, where the mapped file's pages can, so on a machine that barely holds the model
     * the matrices are read in place instead (and a warning says so).
     */
    private static RepackedMatrices repack(ModelWeights weights, WorkerPool pool) {
        if (!RepackedMatrices.enabled()) {
            return RepackedMatrices.NONE;
        }
        List<Tensor> matrices = RepackedMatrices.matrices(weights);
        long needed = RepackedMatrices.bytesNeeded(matrices);
        if (needed == 0) {
            return RepackedMatrices.NONE;
        }
        long available = RepackedMatrices.availableMemory();
        if (available >= 0 && needed > REPACK_MEMORY_SHARE * available) {
            LOG.warn("not repacking the matrices: their copies would take {} MiB of the {} MiB available;"
                    + " reading them in place (slower decoding)", needed >> 20, available >> 20);
            return RepackedMatrices.NONE;
        }
        long start = System.nanoTime();
        RepackedMatrices repacked = RepackedMatrices.of(matrices, pool);
        LOG.info("prepared {} matrices for the CPU kernels (Q4_0, Q4_K, Q5_K and Q6_K repacked, Q8_0 scales as floats;"
                + " {} MiB) in {} ms", repacked.count(), repacked.bytes() >> 20, (System.nanoTime() - start) / 1_000_000);
        return repacked;
    }

    /** A matrix product for this model's weights (it reads the repacked copies where there are any). */
    MatMul newMatMul() {
        return new MatMul(pool, !Simd.WIDE_VECTORS, repacked);
    }

    private static float[] floats(Tensor t) {
        return t == null ? null : t.toFloatArray();
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public String backendName() {
        return "cpu";
    }

    @Override
    public String deviceName() {
        return "Java CPU, " + pool.threads() + " thread" + (pool.threads() == 1 ? "" : "s");
    }

    /** The file's bytes per token, with the repacked matrices counted at their repacked size. */
    @Override
    public OptionalLong weightBytesPerToken() {
        return repacked.count() == 0 ? OptionalLong.empty()
                : OptionalLong.of(weights.bytesPerToken() - repacked.sourceBytes() + repacked.bytes());
    }

    @Override
    public InferenceSession newSession(int contextLength) {
        int ctx = contextLength > 0 ? contextLength : defaultContext;
        if (ctx > config.contextLength()) {
            throw new IllegalArgumentException("context length " + ctx + " exceeds the model's trained context "
                    + config.contextLength());
        }
        return new CpuSession(this, ctx);
    }

    @Override
    public BatchedSession newBatchedSession(int blocks, int blockSize, int maxStepTokens) {
        return new CpuBatchedSession(this, blocks, blockSize, maxStepTokens);
    }

    @Override
    public void close() {
        pool.close();
    }
}
