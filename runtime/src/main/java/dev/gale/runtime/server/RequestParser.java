package dev.gale.runtime.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gale.model.chat.ChatMessage;
import dev.gale.model.chat.ChatTemplate;
import dev.gale.model.chat.ChatTemplateException;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.runtime.chat.ChatSession;
import dev.gale.runtime.sampling.SamplingParams;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and checks the JSON body of {@code /v1/chat/completions} and {@code /v1/completions} requests. Every problem
 * becomes an {@link ApiException} (400) that names the parameter. Unknown fields are ignored.
 */
final class RequestParser {
    /** OpenAI's default for text completions. */
    static final int DEFAULT_COMPLETION_MAX_TOKENS = 16;
    /** How many recent tokens the presence and frequency penalties look at (llama.cpp's default). */
    static final int PENALTY_LAST_N = 64;
    private static final int MAX_STOP_STRINGS = 4;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private final ObjectMapper json;
    private final String modelId;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final int contextLength;

    RequestParser(ObjectMapper json, String modelId, Tokenizer tokenizer, ChatTemplate template, int contextLength) {
        this.json = json;
        this.modelId = modelId;
        this.tokenizer = tokenizer;
        this.template = template;
        this.contextLength = contextLength;
    }

    CompletionRequest parse(byte[] body, boolean chat) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JacksonException e) {
            throw ApiException.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.invalid(null, "the request body could not be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiException.invalid(null, "the request body must be a JSON object");
        }
        checkModel(root);
        rejectUnsupported(root);
        int[] prompt = chat ? chatPrompt(root) : textPrompt(root);
        if (prompt.length == 0) {
            throw ApiException.invalid(chat ? "messages" : "prompt", "the prompt is empty");
        }
        if (prompt.length > contextLength) {
            throw ApiException.invalid(chat ? "messages" : "prompt", "context_length_exceeded",
                    "this model's maximum context length is " + contextLength + " tokens, but the prompt has "
                            + prompt.length + " tokens");
        }
        Integer maxTokens = optInt(root, "max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxTokens == null) {
            maxTokens = optInt(root, "max_tokens", 1, Integer.MAX_VALUE);
        }
        if (maxTokens == null) {
            maxTokens = chat ? Integer.MAX_VALUE : DEFAULT_COMPLETION_MAX_TOKENS;
        }
        float temperature = optFloat(root, "temperature", 0, 2, 1f);
        float topP = optFloat(root, "top_p", 0, 1, 1f);
        if (topP == 0) {
            throw ApiException.invalid("top_p", "'top_p' must be greater than 0");
        }
        Integer topK = optInt(root, "top_k", 0, Integer.MAX_VALUE);
        float minP = optFloat(root, "min_p", 0, 1, 0f);
        float presence = optFloat(root, "presence_penalty", -2, 2, 0f);
        float frequency = optFloat(root, "frequency_penalty", -2, 2, 0f);
        Long seed = optLong(root, "seed");
        SamplingParams params = new SamplingParams(temperature, topK == null ? 0 : topK, topP, minP, 1f,
                PENALTY_LAST_N, presence, frequency, seed != null ? seed : ThreadLocalRandom.current().nextLong());
        boolean stream = optBool(root, "stream", false);
        boolean ignoreEos = optBool(root, "ignore_eos", false);
        return new CompletionRequest(prompt, params, maxTokens, stopStrings(root), stream, ignoreEos);
    }

    private void checkModel(JsonNode root) {
        JsonNode m = root.get("model");
        if (m == null || m.isNull()) {
            throw ApiException.invalid("model", "missing required parameter: 'model'");
        }
        if (!m.isTextual()) {
            throw ApiException.invalid("model", "'model' must be a string");
        }
        if (!m.asText().equals(modelId)) {
            throw ApiException.invalid("model", "model_not_found", "the model '" + m.asText()
                    + "' does not exist; this server serves '" + modelId + "'");
        }
    }

    private static void rejectUnsupported(JsonNode root) {
        Integer n = optInt(root, "n", 1, Integer.MAX_VALUE);
        if (n != null && n != 1) {
            throw ApiException.invalid("n", "only n = 1 is supported, got " + n);
        }
        Integer bestOf = optInt(root, "best_of", 1, Integer.MAX_VALUE);
        if (bestOf != null && bestOf != 1) {
            throw ApiException.invalid("best_of", "only best_of = 1 is supported, got " + bestOf);
        }
        if (optBool(root, "echo", false)) {
            throw ApiException.invalid("echo", "echo is not supported");
        }
        JsonNode logprobs = root.get("logprobs");
        if (logprobs != null && !logprobs.isNull() && !(logprobs.isBoolean() && !logprobs.asBoolean())) {
            throw ApiException.invalid("logprobs", "logprobs are not supported");
        }
        JsonNode suffix = root.get("suffix");
        if (suffix != null && !suffix.isNull()) {
            throw ApiException.invalid("suffix", "suffix is not supported");
        }
    }

    private int[] chatPrompt(JsonNode root) {
        JsonNode messages = root.get("messages");
        if (messages == null || messages.isNull()) {
            throw ApiException.invalid("messages", "missing required parameter: 'messages'");
        }
        if (!messages.isArray() || messages.isEmpty()) {
            throw ApiException.invalid("messages", "'messages' must be a non-empty array");
        }
        List<ChatMessage> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            String where = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) {
                throw ApiException.invalid(where, "'" + where + "' must be an object");
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
                throw ApiException.invalid(where + ".role", "'" + where + ".role' must be one of " + ROLES);
            }
            turns.add(new ChatMessage(role.asText(), content(m.get("content"), where + ".content")));
        }
        String prompt;
        try {
            prompt = template.render(turns, true);
        } catch (ChatTemplateException e) {
            throw ApiException.invalid("messages", "the model's chat template rejected the messages: " + e.getMessage());
        }
        try {
            return ChatSession.encodePrompt(tokenizer, prompt);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("messages", e.getMessage());
        }
    }

    /** A message's text: a string, or an array of {@code {"type": "text", "text": ...}} parts. */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) {
            throw ApiException.invalid(where, "missing required parameter: '" + where + "'");
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                JsonNode type = part.get("type");
                JsonNode text = part.get("text");
                if (type == null || !"text".equals(type.asText()) || text == null || !text.isTextual()) {
                    throw ApiException.invalid(where, "'" + where + "' parts must be {\"type\": \"text\", \"text\": ...}; "
                            + "other content types are not supported");
                }
                sb.append(text.asText());
            }
            return sb.toString();
        }
        throw ApiException.invalid(where, "'" + where + "' must be a string or an array of text parts");
    }

    /** A string, an array of token ids, or an array holding one of those. */
    private int[] textPrompt(JsonNode root) {
        JsonNode p = root.get("prompt");
        if (p == null || p.isNull()) {
            throw ApiException.invalid("prompt", "missing required parameter: 'prompt'");
        }
        if (p.isArray() && p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) {
            p = p.get(0);
        }
        if (p.isTextual()) {
            return tokenizer.encode(p.asText(), true, true);
        }
        if (p.isArray()) {
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode t = p.get(i);
                if (t.isTextual() || t.isArray()) {
                    throw ApiException.invalid("prompt", "only one prompt per request is supported");
                }
                if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0 || t.asInt() >= tokenizer.vocabSize()) {
                    throw ApiException.invalid("prompt", "'prompt' token ids must be integers in [0, "
                            + tokenizer.vocabSize() + "), got " + t);
                }
                ids[i] = t.asInt();
            }
            return ids;
        }
        throw ApiException.invalid("prompt", "'prompt' must be a string or an array of token ids");
    }

    private static List<String> stopStrings(JsonNode root) {
        JsonNode s = root.get("stop");
        if (s == null || s.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (s.isTextual()) {
            out.add(s.asText());
        } else if (s.isArray()) {
            for (JsonNode e : s) {
                if (!e.isTextual()) {
                    throw ApiException.invalid("stop", "'stop' must be a string or an array of strings");
                }
                out.add(e.asText());
            }
        } else {
            throw ApiException.invalid("stop", "'stop' must be a string or an array of strings");
        }
        if (out.size() > MAX_STOP_STRINGS) {
            throw ApiException.invalid("stop", "at most " + MAX_STOP_STRINGS + " stop strings are allowed");
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiException.invalid("stop", "stop strings must not be empty");
        }
        return out;
    }

    private static JsonNode present(JsonNode root, String name) {
        JsonNode v = root.get(name);
        return v == null || v.isNull() ? null : v;
    }

    private static float optFloat(JsonNode root, String name, double min, double max, float dflt) {
        JsonNode v = present(root, name);
        if (v == null) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw ApiException.invalid(name, "'" + name + "' must be a number, got " + v);
        }
        double d = v.asDouble();
        if (!(d >= min && d <= max)) {
            throw ApiException.invalid(name, "'" + name + "' must be between " + fmt(min) + " and " + fmt(max)
                    + ", got " + v);
        }
        return (float) d;
    }

    private static Integer optInt(JsonNode root, String name, int min, int max) {
        JsonNode v = present(root, name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber()) {
            throw ApiException.invalid(name, "'" + name + "' must be an integer, got " + v);
        }
        if (!v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw ApiException.invalid(name, "'" + name + "' must be an integer >= " + min
                    + (max == Integer.MAX_VALUE ? "" : " and <= " + max) + ", got " + v);
        }
        return v.asInt();
    }

    private static Long optLong(JsonNode root, String name) {
        JsonNode v = present(root, name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.invalid(name, "'" + name + "' must be a 64-bit integer, got " + v);
        }
        return v.asLong();
    }

    private static boolean optBool(JsonNode root, String name, boolean dflt) {
        JsonNode v = present(root, name);
        if (v == null) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw ApiException.invalid(name, "'" + name + "' must be a boolean, got " + v);
        }
        return v.asBoolean();
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
