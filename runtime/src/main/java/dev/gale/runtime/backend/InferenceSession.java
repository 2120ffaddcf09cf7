package dev.gale.runtime.backend;

/**
 * One sequence being decoded: its KV cache and position. Not thread-safe; one thread drives a session.
 */
public interface InferenceSession extends AutoCloseable {

    /** Number of tokens in the KV cache (the position of the next token). */
    int position();

    /** KV cache capacity in tokens. */
    int contextLength();

    /**
     * Runs the model over {@code count} tokens from {@code tokens[offset]} at positions {@code position() ..},
     * appending them to the KV cache.
     *
     * @param allLogits if true, returns {@code count × vocab} logits (row per token), in a new array; otherwise only
     *                  the last row, in an array the session may reuse on its next call (copy it to keep it)
     * @throws ContextOverflowException if the tokens do not fit in the context
     */
    float[] forward(int[] tokens, int offset, int count, boolean allLogits);

    default float[] forward(int[] tokens, boolean allLogits) {
        return forward(tokens, 0, tokens.length, allLogits);
    }

    /** Decodes one token and returns its logits. */
    default float[] decode(int token) {
        return forward(new int[] {token}, 0, 1, false);
    }

    /** Decodes one token and returns the argmax of its logits (lowest id on ties). */
    default int decodeGreedy(int token) {
        return Logits.argmax(decode(token));
    }

    /** Forgets every position from {@code length} on (for reusing a cached prefix). */
    void truncate(int length);

    @Override
    void close();
}
