package dev.gale.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.Model;
import dev.gale.model.chat.ChatMessage;
import dev.gale.model.chat.ChatTemplate;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.runtime.SharedData;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.Backends;
import dev.gale.runtime.backend.ContextOverflowException;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.generate.GenerationResult;
import dev.gale.runtime.generate.Generator;
import dev.gale.runtime.generate.StopReason;
import dev.gale.runtime.sampling.SamplingParams;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Multi-turn chat on stories260K (plain template): the KV cache carries the conversation from turn to turn. */
class ChatSessionTest {
    private static final int MAX_REPLY = 24;
    private static Model model;
    private static InferenceEngine engine;

    @BeforeAll
    static void load() throws Exception {
        model = Model.open(SharedData.model("stories260K.gguf"));
        engine = Backends.named("cpu").load(model, new BackendOptions(1, 0, 0));
    }

    @AfterAll
    static void close() {
        engine.close();
        model.close();
    }

    private static ChatSession chat(InferenceSession session) {
        return chat(session, model.tokenizer());
    }

    private static ChatSession chat(InferenceSession session, Tokenizer tokenizer) {
        return new ChatSession(session, tokenizer, ChatTemplate.forModel(model.gguf().metadata()),
                SamplingParams.GREEDY, MAX_REPLY);
    }

    @Test
    void secondTurnPrefillsOnlyItsNewTokens() {
        try (InferenceSession session = engine.newSession(0)) {
            ChatSession chat = chat(session);
            assertEquals("plain (built in)", chat.template().description());

            ChatTurn first = chat.send("Once upon a time, there was a little cat.", token -> true);
            assertEquals(0, first.reusedTokens());
            assertEquals(first.promptTokens(), first.prefilledTokens());
            assertTrue(first.generatedTokens() > 0, "the model replied nothing");
            int heldAfterFirst = chat.stats().contextTokens();
            // the cache holds the prompt and the reply (less its last token when the reply was cut at the limit)
            assertTrue(heldAfterFirst >= first.promptTokens() + first.generatedTokens() - 1, "cache: " + heldAfterFirst);

            ChatTurn second = chat.send("The cat liked to play.", token -> true);
            assertEquals(heldAfterFirst, second.reusedTokens(), "the second turn must reuse every cached token");
            assertEquals(second.promptTokens() - heldAfterFirst, second.prefilledTokens());

            ChatStats stats = chat.stats();
            assertEquals(2, stats.turns());
            assertEquals(heldAfterFirst, stats.reusedTokens());
            assertEquals(first.prefilledTokens() + second.prefilledTokens(), stats.prefilledTokens());
            assertEquals(List.of(ChatMessage.user("Once upon a time, there was a little cat."),
                    ChatMessage.assistant(first.reply()), ChatMessage.user("The cat liked to play."),
                    ChatMessage.assistant(second.reply())), chat.conversation());
        }
    }

    /** Reusing the cache must not change the reply: compare with the whole conversation prefilled at once. */
    @Test
    void reusedCacheGivesTheSameReplyAsAFreshPrefill() {
        List<ChatMessage> conversation;
        ChatTurn second;
        try (InferenceSession session = engine.newSession(0)) {
            ChatSession chat = chat(session);
            chat.send("Lily had a red ball.", token -> true);
            conversation = new ArrayList<>(chat.conversation());
            second = chat.send("She gave it to Tom.", token -> true);
        }
        conversation.add(ChatMessage.user("She gave it to Tom."));
        String prompt = ChatTemplate.forModel(model.gguf().metadata()).render(conversation, true);
        try (InferenceSession fresh = engine.newSession(0)) {
            Tokenizer tok = model.tokenizer();
            int[] ids = withBos(tok.encode(prompt, false, true));
            assertEquals(second.promptTokens(), ids.length);
            GenerationResult r = Generator.generate(fresh, ids, SamplingParams.GREEDY, MAX_REPLY,
                    tok.endOfGenerationIds(), token -> true);
            assertEquals(second.reply(), text(r.tokens()));
        }
    }

    @Test
    void resetKeepsTheCachedPrefixOfTheNextConversation() {
        try (InferenceSession session = engine.newSession(0)) {
            ChatSession chat = chat(session);
            chat.setSystemPrompt("A story.");
            ChatTurn first = chat.send("Tim saw a dog.", token -> true);
            chat.send("The dog ran.", token -> true);
            chat.reset();
            assertEquals(List.of(ChatMessage.system("A story.")), chat.conversation());
            ChatTurn again = chat.send("Tim saw a dog.", token -> true);
            // the same opening: everything but the last prompt token (re-run for its logits) comes from the cache
            assertEquals(first.promptTokens() - 1, again.reusedTokens());
            assertEquals(1, again.prefilledTokens());
            assertEquals(first.reply(), again.reply());
        }
    }

    /** Replies end at the tokenizer's end-of-generation ids (stories260K never emits EOS, so one is chosen here). */
    @Test
    void replyEndsAtAnEndOfGenerationToken() {
        List<Integer> streamed = new ArrayList<>();
        try (InferenceSession session = engine.newSession(0)) {
            chat(session).send("Tom had a dog.", token -> streamed.add(token));
        }
        int end = streamed.get(5);
        Tokenizer real = model.tokenizer();
        Tokenizer endingThere = (Tokenizer) Proxy.newProxyInstance(Tokenizer.class.getClassLoader(),
                new Class<?>[] {Tokenizer.class}, (proxy, method, args) -> method.getName().equals("endOfGenerationIds")
                        ? Set.of(end) : method.invoke(real, args));
        try (InferenceSession session = engine.newSession(0)) {
            ChatTurn turn = chat(session, endingThere).send("Tom had a dog.", token -> true);
            assertEquals(StopReason.END_OF_TEXT, turn.stopReason());
            assertEquals(streamed.indexOf(end), turn.generatedTokens());
        }
    }

    @Test
    void aTurnThatDoesNotFitLeavesTheConversationAsItWas() {
        try (InferenceSession session = engine.newSession(32)) {
            ChatSession chat = chat(session);
            String tooLong = "The little bird sang a song. ".repeat(20);
            assertThrows(ContextOverflowException.class, () -> chat.send(tooLong, token -> true));
            assertEquals(List.of(), chat.conversation());
            ChatTurn turn = chat.send("Hi.", token -> true);
            assertTrue(turn.promptTokens() < 32);
        }
    }

    private static String text(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            bytes.writeBytes(model.tokenizer().tokenBytes(id, false));
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static int[] withBos(int[] ids) {
        int[] out = new int[ids.length + 1];
        out[0] = model.tokenizer().bosId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
