package dev.gale.runtime.backend;

import dev.gale.model.config.ModelConfig;

/** A model loaded on a backend, with weights resident where the backend keeps them. */
public interface InferenceEngine extends AutoCloseable {

    ModelConfig config();

    /** The backend's name. */
    String backendName();

    /** A description of the device in use. */
    String deviceName();

    /** A new sequence with its own KV cache of {@code contextLength} positions (0 = the engine's default). */
    InferenceSession newSession(int contextLength);

    @Override
    void close();
}
