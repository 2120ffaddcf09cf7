package dev.gale.model.tokenizer;

import dev.gale.model.config.UnsupportedModelException;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufMetadata;
import java.io.IOException;
import java.nio.file.Path;

/** Creates the tokenizer a GGUF file describes. */
public final class Tokenizers {
    /** The {@code tokenizer.ggml.model} values supported. */
    public static final String SUPPORTED_MODELS = "llama (SentencePiece), gpt2 (byte-level BPE)";

    private Tokenizers() {
    }

    /**
     * The tokenizer for {@code tokenizer.ggml.model}: {@code llama} gives a {@link SentencePieceTokenizer},
     * {@code gpt2} a {@link BpeTokenizer}.
     *
     * @throws UnsupportedModelException for other tokenizer models or unknown BPE pre-tokenizers
     */
    public static Tokenizer fromGguf(GgufMetadata md) {
        if (!md.contains(Vocab.KEY_MODEL)) {
            throw new UnsupportedModelException("the file has no " + Vocab.KEY_MODEL + " key, so no tokenizer"
                    + " (supported: " + SUPPORTED_MODELS + ")");
        }
        String model = md.getString(Vocab.KEY_MODEL);
        return switch (model) {
            case "llama" -> SentencePieceTokenizer.fromGguf(md);
            case "gpt2" -> BpeTokenizer.fromGguf(md);
            default -> throw new UnsupportedModelException(Vocab.KEY_MODEL + " '" + model
                    + "' is not supported (supported: " + SUPPORTED_MODELS + ")");
        };
    }

    /** Opens a GGUF file just to read its tokenizer. */
    public static Tokenizer fromGguf(Path path) throws IOException {
        try (GgufFile file = GgufFile.open(path)) {
            return fromGguf(file.metadata());
        }
    }
}
