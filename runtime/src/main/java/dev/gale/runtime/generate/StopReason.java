package dev.gale.runtime.generate;

/** Why generation ended. */
public enum StopReason {
    /** An end-of-generation token (EOS, EOT) was produced. */
    END_OF_TEXT,
    /** The token limit was reached. */
    MAX_TOKENS,
    /** A stop string was produced. */
    STOP_STRING,
    /** The context window is full. */
    CONTEXT_FULL,
    /** The caller cancelled. */
    CANCELLED
}
