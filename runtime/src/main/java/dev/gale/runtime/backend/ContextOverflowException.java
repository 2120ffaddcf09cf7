package dev.gale.runtime.backend;

/** The tokens do not fit in the session's context window. */
public class ContextOverflowException extends RuntimeException {
    public ContextOverflowException(int position, int count, int contextLength) {
        super("context window exceeded: " + position + " tokens in the cache + " + count + " new > context length "
                + contextLength + " (use a shorter prompt, fewer --max-tokens, or a larger --ctx-size)");
    }
}
