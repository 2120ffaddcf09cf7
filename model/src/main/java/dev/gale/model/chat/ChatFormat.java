package dev.gale.model.chat;

import dev.gale.model.gguf.GgufMetadata;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The chat formats Gale knows without a template in the file: each is a Jinja template under
 * {@code dev/gale/model/chat/}, used when a GGUF has no {@code tokenizer.chat_template}.
 */
public enum ChatFormat {
    /** Llama 3: {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>}. */
    LLAMA3("llama3"),
    /** ChatML (Qwen2, Qwen3 and many others): {@code <|im_start|>role\ncontent<|im_end|>\n}. */
    CHATML("chatml"),
    /** Phi-3: {@code <|user|>\ncontent<|end|>\n}. */
    PHI3("phi3"),
    /** Gemma: {@code <start_of_turn>user\ncontent<end_of_turn>\n}, the assistant's role named {@code model}. */
    GEMMA("gemma"),
    /** Llama 2 chat: {@code <s>[INST] content [/INST] answer </s>}. */
    LLAMA2("llama2"),
    /** No chat markup: the turns' texts one after another, each ending with a newline (story models). */
    PLAIN("plain");

    private static final String START_HEADER = "<|start_header_id|>";
    private static final String EOT = "<|eot_id|>";
    private static final String IM_START = "<|im_start|>";
    private static final String PHI_USER = "<|user|>";
    private static final String PHI_END = "<|end|>";
    private static final String START_OF_TURN = "<start_of_turn>";
    private static final String INST = "[INST]";
    private static final Set<String> MARKERS = Set.of(START_HEADER, EOT, IM_START, PHI_USER, PHI_END, START_OF_TURN, INST);
    /** The Llama 2 SentencePiece vocabulary, which Llama 2 chat models use without any chat tokens. */
    private static final int LLAMA2_VOCAB_SIZE = 32000;

    private final String id;

    ChatFormat(String id) {
        this.id = id;
    }

    /** The short name ({@code llama3}, {@code chatml}, ...). */
    public String id() {
        return id;
    }

    /** The Jinja source of this format. */
    public String templateSource() {
        String resource = id + ".jinja";
        try (InputStream in = ChatFormat.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource dev/gale/model/chat/" + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The format for a model whose file has no chat template, from its architecture and its vocabulary's chat tokens. */
    public static ChatFormat detect(GgufMetadata metadata) {
        String[] tokens = metadata.contains("tokenizer.ggml.tokens")
                ? metadata.getStringArray("tokenizer.ggml.tokens") : new String[0];
        return detect(metadata.getString("general.architecture", ""), metadata.getString("tokenizer.ggml.model", ""),
                List.of(tokens));
    }

    /**
     * The format from the chat tokens the vocabulary has; without any, Llama 2 chat for a llama model with the
     * 32000-piece Llama 2 SentencePiece vocabulary, and plain text otherwise.
     */
    static ChatFormat detect(String architecture, String tokenizerModel, List<String> tokens) {
        Set<String> present = new HashSet<>();
        for (String t : tokens) {
            if (MARKERS.contains(t)) {
                present.add(t);
            }
        }
        if (present.contains(START_HEADER) && present.contains(EOT)) {
            return LLAMA3;
        }
        if (present.contains(IM_START)) {
            return CHATML;
        }
        if (present.contains(START_OF_TURN)) {
            return GEMMA;
        }
        if (present.contains(PHI_USER) && present.contains(PHI_END)) {
            return PHI3;
        }
        if (present.contains(INST)
                || architecture.equals("llama") && tokenizerModel.equals("llama") && tokens.size() == LLAMA2_VOCAB_SIZE) {
            return LLAMA2;
        }
        return PLAIN;
    }
}
