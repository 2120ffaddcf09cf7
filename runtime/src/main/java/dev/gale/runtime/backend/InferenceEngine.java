package dev.gale.runtime.backend;

import dev.gale.model.config.ModelConfig;
import java.util.Optional;
import java.util.OptionalLong;

/** A model loaded on a backend, with weights resident where the backend keeps them. */
public interface InferenceEngine extends AutoCloseable {

    ModelConfig config();

    /** The backend's name. */
    String backendName();

    /** A description of the device in use. */
    String deviceName();

    /** Device work per greedy-decoded token, for backends that launch kernels on a device. */
    default Optional<TokenWork> workPerToken() {
        return Optional.empty();
    }

    /** A new sequence with its own KV cache of {@code contextLength} positions (0 = the engine's default). */
    InferenceSession newSession(int contextLength);

    /**
     * A cache of {@code blocks × blockSize} positions shared by many sequences, decoded together in steps of up to
     * {@code maxStepTokens} tokens.
     *
     * @throws UnsupportedOperationException if this backend cannot batch sequences
     */
    default BatchedSession newBatchedSession(int blocks, int blockSize, int maxStepTokens) {
        throw new UnsupportedOperationException("the " + backendName() + " backend does not support batched decoding");
    }

    /**
     * Bytes of weights one decode step reads as this backend holds them, where they differ from the file's
     * ({@code ModelWeights.bytesPerToken}): the CPU backend's repacked Q4_0, Q4_K, Q5_K and Q6_K matrices are larger than the
     * file's blocks.
     * Empty if the backend reads the file's bytes as they are.
     */
    default OptionalLong weightBytesPerToken() {
        return OptionalLong.empty();
    }

    /**
     * Device memory this engine holds now (weights, KV caches, work buffers), for backends that keep them on a
     * device; empty for a backend that runs in host memory or cannot tell.
     */
    default OptionalLong deviceMemoryBytes() {
        return OptionalLong.empty();
    }

    @Override
    void close();
}
