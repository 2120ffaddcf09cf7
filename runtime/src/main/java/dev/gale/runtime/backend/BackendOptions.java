package dev.gale.runtime.backend;

/**
 * How to run a model.
 *
 * @param threads       CPU worker threads (0 = all cores)
 * @param device        device index for backends with several devices
 * @param contextLength KV cache length for a session (0 = the model's trained length, capped at {@link #DEFAULT_CONTEXT})
 */
public record BackendOptions(int threads, int device, int contextLength) {
    public static final int DEFAULT_CONTEXT = 4096;

    public static BackendOptions defaults() {
        return new BackendOptions(0, 0, 0);
    }

    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
