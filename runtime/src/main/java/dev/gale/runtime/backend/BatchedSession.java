package dev.gale.runtime.backend;

import java.util.List;

/**
 * Many sequences decoded together over one paged KV cache of {@link #blocks()} blocks of {@link #blockSize()}
 * positions. Each call to {@link #forward} runs one step for any mix of sequences: a few prompt tokens of one,
 * a single decode token of another. All their tokens go through each weight matrix together, while attention uses
 * each sequence's own blocks and positions. A row's results do not depend on the other rows of the step.
 *
 * <p>Which blocks a sequence uses is up to the caller (see {@link dev.gale.runtime.kv.BlockPool}); rows of one step
 * must not write the same positions of the same block. Not thread-safe: one thread drives a batched session.
 */
public interface BatchedSession extends AutoCloseable {

    /** Positions per KV block. */
    int blockSize();

    /** KV blocks in the cache. */
    int blocks();

    /** The most tokens (summed over rows) one step can run. */
    int maxStepTokens();

    /**
     * Runs one step: appends each row's tokens to its sequence's cache and writes the last token's logits where the
     * row asks for them.
     *
     * @throws IllegalArgumentException if the rows hold more than {@link #maxStepTokens()} tokens, a token is outside
     *                                  the vocabulary, or a block table does not cover a row's positions
     */
    void forward(List<BatchRow> rows);

    @Override
    void close();
}
