package dev.gale.model.chat;

import dev.gale.model.gguf.GgufMetadata;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns a conversation into the prompt text a model was trained on: the GGUF's own Jinja
 * {@code tokenizer.chat_template}, or a {@link ChatFormat} fallback. Templates see {@code messages} (each with
 * {@code role} and {@code content}), {@code add_generation_prompt}, {@code bos_token} and {@code eos_token}, as
 * with Hugging Face's {@code apply_chat_template}. Immutable and thread-safe.
 */
public final class ChatTemplate {
    /** The key of the template in GGUF metadata. */
    public static final String GGUF_KEY = "tokenizer.chat_template";
    private static final JinjaEngine SYSTEM_CLOCK = new JinjaEngine(Clock.systemDefaultZone());

    private final String description;
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final JinjaEngine engine;

    private ChatTemplate(String description, String source, String bosToken, String eosToken, JinjaEngine engine) {
        this.description = description;
        this.source = Objects.requireNonNull(source, "source");
        this.bosToken = Objects.requireNonNull(bosToken, "bosToken");
        this.eosToken = Objects.requireNonNull(eosToken, "eosToken");
        this.engine = engine;
    }

    /** A template from Jinja source; {@code bosToken}/{@code eosToken} are the texts the template may print. */
    public static ChatTemplate of(String source, String bosToken, String eosToken) {
        return new ChatTemplate("custom template", source, bosToken, eosToken, SYSTEM_CLOCK);
    }

    /** A fallback format's template. */
    public static ChatTemplate of(ChatFormat format, String bosToken, String eosToken) {
        return new ChatTemplate(format.id() + " (built in)", format.templateSource(), bosToken, eosToken, SYSTEM_CLOCK);
    }

    /** The model's template: the file's {@code tokenizer.chat_template}, else the format {@link ChatFormat#detect} picks. */
    public static ChatTemplate forModel(GgufMetadata metadata) {
        String bos = tokenText(metadata, "tokenizer.ggml.bos_token_id");
        String eos = tokenText(metadata, "tokenizer.ggml.eos_token_id");
        String own = metadata.getString(GGUF_KEY, "");
        if (!own.isBlank()) {
            return new ChatTemplate("the file's " + GGUF_KEY, own, bos, eos, SYSTEM_CLOCK);
        }
        return of(ChatFormat.detect(metadata), bos, eos);
    }

    private static String tokenText(GgufMetadata metadata, String idKey) {
        if (!metadata.contains(idKey) || !metadata.contains("tokenizer.ggml.tokens")) {
            return "";
        }
        String[] tokens = metadata.getStringArray("tokenizer.ggml.tokens");
        int id = metadata.getInt(idKey);
        return id >= 0 && id < tokens.length ? tokens[id] : "";
    }

    /** The same template with {@code strftime_now} reading {@code clock} (for reproducible prompts and tests). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(description, source, bosToken, eosToken, new JinjaEngine(clock));
    }

    /**
     * Renders the conversation.
     *
     * @param addGenerationPrompt end with the opening of an assistant turn, for the model to complete
     * @throws ChatTemplateException if the template is malformed, fails, or rejects the conversation
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            list.add(map);
        }
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("messages", list);
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("bos_token", bosToken);
        variables.put("eos_token", eosToken);
        return engine.render(source, variables);
    }

    /** Where the template comes from, e.g. {@code the file's tokenizer.chat_template} or {@code chatml (built in)}. */
    public String description() {
        return description;
    }

    public String source() {
        return source;
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }
}
