package dev.gale.runtime.server;

import dev.gale.runtime.kv.KvBudget;
import java.nio.file.Path;

/**
 * How to run {@code gale serve}.
 *
 * @param model         GGUF file
 * @param alias         the model name clients use, or null for the file name without {@code .gguf}
 * @param host          address to listen on
 * @param port          port (0 = any free port)
 * @param maxBatch      most sequences decoded together
 * @param maxQueue      most requests waiting; more get 429
 * @param prefillChunk  most prompt tokens per step
 * @param blockSize     positions per KV block
 * @param kvBudget      KV cache size, or null for room for {@code maxBatch} full contexts (at most half the free heap)
 * @param threads       CPU threads (0 = all cores)
 * @param contextLength positions per sequence (0 = the model's, at most 4096)
 * @param backend       backend name
 * @param device        device index for the backend
 */
public record ServerOptions(Path model, String alias, String host, int port, int maxBatch, int maxQueue,
                            int prefillChunk, int blockSize, KvBudget kvBudget, int threads, int contextLength,
                            String backend, int device) {

    public static final int DEFAULT_MAX_BATCH = 32;
    public static final int DEFAULT_MAX_QUEUE = 256;
    public static final int DEFAULT_PREFILL_CHUNK = 128;
    public static final int DEFAULT_BLOCK_SIZE = 16;

    /** Defaults for everything but the model, listening on an ephemeral loopback port. */
    public static ServerOptions loopback(Path model) {
        return new ServerOptions(model, null, "127.0.0.1", 0, DEFAULT_MAX_BATCH, DEFAULT_MAX_QUEUE,
                DEFAULT_PREFILL_CHUNK, DEFAULT_BLOCK_SIZE, null, 0, 0, "cpu", 0);
    }
}
