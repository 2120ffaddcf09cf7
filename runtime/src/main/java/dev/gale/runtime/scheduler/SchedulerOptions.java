package dev.gale.runtime.scheduler;

/**
 * How the scheduler batches.
 *
 * @param maxBatch      most sequences in the running batch
 * @param maxQueue      most requests waiting to join it; more are refused
 * @param prefillChunk  most prompt tokens run per step (over all sequences), so a long prompt does not stall decoding
 * @param contextLength most positions per sequence
 * @param kvBlocks      KV blocks in the shared cache
 * @param blockSize     positions per KV block
 */
public record SchedulerOptions(int maxBatch, int maxQueue, int prefillChunk, int contextLength, int kvBlocks,
                               int blockSize) {
    public SchedulerOptions {
        positive("max batch", maxBatch);
        positive("max queue", maxQueue);
        positive("prefill chunk", prefillChunk);
        positive("context length", contextLength);
        positive("KV blocks", kvBlocks);
        positive("KV block size", blockSize);
    }

    private static void positive(String what, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be > 0, got " + value);
        }
    }

    /** The most tokens one step runs: a decode token per sequence plus the prefill chunk. */
    public int maxStepTokens() {
        return maxBatch + prefillChunk;
    }
}
