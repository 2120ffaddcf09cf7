package dev.gale.model.tokenizer;

import dev.gale.model.gguf.GgufMetadata;

/** Builds the tokenizer a GGUF file describes. */
public final class Tokenizers {
    private Tokenizers() {}

    public static Tokenizer fromGguf(GgufMetadata md) {
        throw new UnsupportedOperationException("tokenizer not yet available");
    }
}
