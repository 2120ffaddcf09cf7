package dev.gale.runtime.backend;

/**
 * One sequence's share of a batched forward pass: {@code count} consecutive tokens of that sequence.
 *
 * @param tokens     the sequence's tokens
 * @param offset     index in {@code tokens} of the first token to run
 * @param count      how many tokens to run (at least 1)
 * @param position   the position of the first token; positions {@code [0, position)} must already be in the cache
 * @param blockTable the sequence's KV blocks in position order; they must cover {@code position + count} positions
 * @param logits     where to write the logits of the last token ({@code vocab} floats), or null if not needed
 */
public record BatchRow(int[] tokens, int offset, int count, int position, int[] blockTable, float[] logits) {
    public BatchRow {
        if (count <= 0) {
            throw new IllegalArgumentException("a batch row needs at least one token");
        }
        if (offset < 0 || offset + count > tokens.length) {
            throw new IllegalArgumentException("tokens [" + offset + ", " + (offset + count) + ") are outside the "
                    + tokens.length + " given");
        }
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0, got " + position);
        }
    }
}
