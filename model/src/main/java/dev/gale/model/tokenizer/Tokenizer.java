package dev.gale.model.tokenizer;

import java.util.Set;

/**
 * Text to token ids and back, as the model's GGUF describes it ({@code tokenizer.ggml.*} keys).
 * Implementations are immutable and thread-safe.
 */
public interface Tokenizer {

    /**
     * Encodes text.
     *
     * @param text         the text
     * @param addSpecial   add BOS (and EOS) as the file says ({@code tokenizer.ggml.add_bos_token}, default per model)
     * @param parseSpecial recognise special/control token texts (e.g. {@code <|eot_id|>}) inside the text.
     *                     User-defined tokens (token type 4, e.g. Qwen's {@code <think>}) are recognised either way,
     *                     as in llama.cpp and Hugging Face tokenizers.
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** Encodes plain text: no BOS, no control-token parsing. */
    default int[] encode(String text) {
        return encode(text, false, false);
    }

    /**
     * The bytes a token contributes to the output text (byte-fallback tokens give their byte, control tokens give
     * nothing unless {@code special} is true).
     */
    byte[] tokenBytes(int id, boolean special);

    /** The token's text as stored in the vocabulary (e.g. {@code ▁the}, {@code Ġthe}, {@code <0x0A>}). */
    String piece(int id);

    /** Decodes ids to text; invalid UTF-8 becomes U+FFFD. Control tokens are skipped. */
    String decode(int[] ids);

    int vocabSize();

    /** BOS id, or -1. */
    int bosId();

    /** EOS id, or -1. */
    int eosId();

    /** Whether encode(addSpecial = true) prepends BOS. */
    boolean addBos();

    /** Ids that end generation: EOS, EOT and the like. */
    Set<Integer> endOfGenerationIds();

    /** True for control/special tokens (BOS, EOS, chat markers). */
    boolean isControl(int id);

    /** The id of a token text, or -1. */
    int tokenId(String piece);
}
