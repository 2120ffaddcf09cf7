package dev.gale.runtime.chat;

import dev.gale.model.chat.ChatMessage;
import dev.gale.model.chat.ChatTemplate;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.generate.GenerationResult;
import dev.gale.runtime.generate.Generator;
import dev.gale.runtime.generate.TokenListener;
import dev.gale.runtime.sampling.SamplingParams;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A conversation with a model, kept in one {@link InferenceSession}'s KV cache across turns. Each turn renders the
 * whole conversation with the chat template and tokenizes it; the tokens the cache already holds (the longest
 * common prefix) are reused, the cache is cut back to them, and only the rest is prefilled. Replies end at the
 * tokenizer's end-of-generation tokens (EOS, {@code <|eot_id|>}, {@code <|im_end|>}, {@code <|end|>},
 * {@code <end_of_turn>}, ...). Not thread-safe; the caller owns and closes the inference session.
 */
public final class ChatSession {
    private final InferenceSession session;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final SamplingParams sampling;
    private final int maxReplyTokens;
    private final Set<Integer> endTokens;
    private final List<ChatMessage> messages = new ArrayList<>();
    private String systemPrompt;
    /** The tokens in the KV cache, in order; as many as {@code session.position()}. */
    private int[] cached = new int[0];
    private int turns;
    private long reusedTotal;
    private long prefilledTotal;
    private long generatedTotal;

    /**
     * @param session        an empty inference session, used only by this chat from now on
     * @param sampling       sampling for the replies; turn {@code n} samples with seed {@code seed + n}
     * @param maxReplyTokens most tokens per reply (replies also end at an end-of-turn token or a full context)
     */
    public ChatSession(InferenceSession session, Tokenizer tokenizer, ChatTemplate template, SamplingParams sampling,
                       int maxReplyTokens) {
        if (maxReplyTokens < 1) {
            throw new IllegalArgumentException("max reply tokens must be >= 1, got " + maxReplyTokens);
        }
        this.session = Objects.requireNonNull(session, "session");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.template = Objects.requireNonNull(template, "template");
        this.sampling = Objects.requireNonNull(sampling, "sampling");
        this.maxReplyTokens = maxReplyTokens;
        this.endTokens = tokenizer.endOfGenerationIds();
        session.truncate(0);
    }

    /**
     * Adds the user's message, streams the reply's tokens to {@code listener} (returning false stops the reply
     * early) and adds the reply to the conversation. If rendering, tokenizing or prefilling fails (for example
     * the conversation no longer fits the context) the message is not added and the exception propagates.
     */
    public ChatTurn send(String userMessage, TokenListener listener) {
        messages.add(ChatMessage.user(userMessage));
        GenerationResult result;
        int[] prompt;
        int reused;
        try {
            prompt = encodePrompt(tokenizer, template.render(conversation(), true));
            int mismatch = Arrays.mismatch(cached, prompt);
            reused = Math.min(mismatch < 0 ? cached.length : mismatch, prompt.length - 1);
            session.truncate(reused);
            cached = Arrays.copyOf(cached, reused);
            SamplingParams turnSampling = sampling.withSeed(sampling.seed() + turns);
            result = Generator.generate(session, Arrays.copyOfRange(prompt, reused, prompt.length), turnSampling,
                    maxReplyTokens, endTokens, listener);
        } catch (RuntimeException e) {
            messages.removeLast();
            throw e;
        }
        int[] reply = result.tokens();
        int[] held = Arrays.copyOf(prompt, prompt.length + reply.length);
        System.arraycopy(reply, 0, held, prompt.length, reply.length);
        cached = Arrays.copyOf(held, session.position());
        String replyText = text(reply);
        messages.add(ChatMessage.assistant(replyText));
        turns++;
        int prefilled = prompt.length - reused;
        reusedTotal += reused;
        prefilledTotal += prefilled;
        generatedTotal += reply.length;
        return new ChatTurn(replyText, prompt.length, reused, prefilled, reply.length, result.stopReason(),
                result.metrics());
    }

    /** Forgets the conversation (the system prompt stays). Cached tokens that the next prompt shares are reused. */
    public void reset() {
        messages.clear();
    }

    /** Starts a new conversation under this system prompt; null or blank means none. */
    public void setSystemPrompt(String text) {
        systemPrompt = text == null || text.isBlank() ? null : text;
        reset();
    }

    public String systemPrompt() {
        return systemPrompt;
    }

    /** The conversation as the template sees it: the system prompt, if any, then the turns. */
    public List<ChatMessage> conversation() {
        List<ChatMessage> all = new ArrayList<>(messages.size() + 1);
        if (systemPrompt != null) {
            all.add(ChatMessage.system(systemPrompt));
        }
        all.addAll(messages);
        return List.copyOf(all);
    }

    public ChatTemplate template() {
        return template;
    }

    public ChatStats stats() {
        return new ChatStats(turns, session.position(), session.contextLength(), reusedTotal, prefilledTotal,
                generatedTotal);
    }

    /**
     * A rendered chat prompt's tokens: chat markers are parsed as special tokens; BOS comes first when the tokenizer
     * adds one, whether or not the template printed it.
     *
     * @throws IllegalArgumentException if the prompt is empty
     */
    public static int[] encodePrompt(Tokenizer tokenizer, String text) {
        int[] ids = tokenizer.encode(text, false, true);
        int bos = tokenizer.bosId();
        if (tokenizer.addBos() && bos >= 0 && (ids.length == 0 || ids[0] != bos)) {
            int[] withBos = new int[ids.length + 1];
            withBos[0] = bos;
            System.arraycopy(ids, 0, withBos, 1, ids.length);
            ids = withBos;
        }
        if (ids.length == 0) {
            throw new IllegalArgumentException("the chat template rendered an empty prompt");
        }
        return ids;
    }

    /** The reply exactly as streamed, so that re-rendering it gives back the same tokens where possible. */
    private String text(int[] reply) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : reply) {
            bytes.writeBytes(tokenizer.tokenBytes(id, false));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
