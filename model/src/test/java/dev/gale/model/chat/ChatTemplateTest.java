package dev.gale.model.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gale.model.gguf.GgufFile;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.model.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class ChatTemplateTest {
    private static final List<ChatMessage> TWO_TURNS = List.of(
            ChatMessage.user("Hello"), ChatMessage.assistant("Hi there"), ChatMessage.user("How are you?"));
    private static final List<ChatMessage> WITH_SYSTEM = List.of(ChatMessage.system("You are terse."),
            ChatMessage.user("Hi"), ChatMessage.assistant("Hello!"), ChatMessage.user("Name a color."));

    private static Path vocab(String name) {
        Path p = Path.of(System.getProperty("gale.shared.dir", "../shared")).resolve("models").resolve(name);
        assumeTrue(Files.isRegularFile(p), "shared test data not found: " + p);
        return p;
    }

    private static ChatTemplate forFile(String name) throws IOException {
        try (GgufFile gguf = GgufFile.open(vocab(name))) {
            return ChatTemplate.forModel(gguf.metadata());
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void rendersPhi3TemplateFromTheGguf() throws IOException {
        ChatTemplate t = forFile("vocab/ggml-vocab-phi-3.gguf");
        assertEquals("the file's tokenizer.chat_template", t.description());
        assertEquals("<s>", t.bosToken());
        assertEquals("<|endoftext|>", t.eosToken());
        assertEquals("<s><|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nHow are you?<|end|>\n"
                + "<|assistant|>\n", t.render(TWO_TURNS, true));
    }

    @Test
    void picksFallbackFromVocabulary() throws IOException {
        assertEquals("llama3 (built in)", forFile("vocab/vocab-llama3-bpe.derived.gguf").description());
        assertEquals("chatml (built in)", forFile("vocab/vocab-qwen2-bpe.derived.gguf").description());
        assertEquals("llama2 (built in)", forFile("vocab/ggml-vocab-llama-spm.gguf").description());
        assertEquals("plain (built in)", forFile("stories260K.gguf").description());
        assertEquals(ChatFormat.GEMMA, ChatFormat.detect("gemma3", "llama", List.of("<pad>", "<bos>", "<start_of_turn>")));
        assertEquals(ChatFormat.PHI3, ChatFormat.detect("phi3", "llama", List.of("<s>", "<|user|>", "<|end|>")));
        assertEquals(ChatFormat.LLAMA2, ChatFormat.detect("llama", "llama", List.of("<s>", "[INST]", "[/INST]")));
        assertEquals(ChatFormat.PLAIN, ChatFormat.detect("qwen2", "gpt2", List.of("a", "b")));
    }

    /** The token that closes a turn in each format must end generation. */
    @ParameterizedTest
    @CsvSource({"vocab/vocab-llama3-bpe.derived.gguf, <|eot_id|>", "vocab/vocab-qwen2-bpe.derived.gguf, <|im_end|>",
            "vocab/ggml-vocab-phi-3.gguf, <|end|>"})
    void endOfTurnTokenEndsGeneration(String file, String endOfTurn) throws IOException {
        try (GgufFile gguf = GgufFile.open(vocab(file))) {
            Tokenizer tokenizer = Tokenizers.fromGguf(gguf.metadata());
            assertTrue(tokenizer.endOfGenerationIds().contains(tokenizer.tokenId(endOfTurn)), endOfTurn);
        }
    }

    @Test
    void llama3FallbackUsesTheFilesSpecialTokens() throws IOException {
        ChatTemplate t = forFile("vocab/vocab-llama3-bpe.derived.gguf");
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(List.of(ChatMessage.user("Hello")), true));
    }

    static String expectedFallback(ChatFormat format) {
        return switch (format) {
            case LLAMA3 -> "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                    + "<|start_header_id|>user<|end_header_id|>\n\nName a color.<|eot_id|>"
                    + "<|start_header_id|>assistant<|end_header_id|>\n\n";
            case CHATML -> "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                    + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nName a color.<|im_end|>\n"
                    + "<|im_start|>assistant\n";
            case PHI3 -> "<s><|system|>\nYou are terse.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n"
                    + "<|user|>\nName a color.<|end|>\n<|assistant|>\n";
            case GEMMA -> "<bos><start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!"
                    + "<end_of_turn>\n<start_of_turn>user\nName a color.<end_of_turn>\n<start_of_turn>model\n";
            case LLAMA2 -> "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Name a color. [/INST]";
            case PLAIN -> "You are terse.\nHi\nHello!\nName a color.\n";
        };
    }

    private static ChatTemplate fallback(ChatFormat format) {
        return switch (format) {
            case LLAMA3 -> ChatTemplate.of(format, "<|begin_of_text|>", "<|end_of_text|>");
            case GEMMA -> ChatTemplate.of(format, "<bos>", "<eos>");
            default -> ChatTemplate.of(format, "<s>", "</s>");
        };
    }

    @ParameterizedTest
    @EnumSource(ChatFormat.class)
    void rendersEachFallback(ChatFormat format) {
        assertEquals(expectedFallback(format), fallback(format).render(WITH_SYSTEM, true));
    }

    /** What the KV cache reuse relies on: the prompt plus the reply is a prefix of the next turn's prompt. */
    @ParameterizedTest
    @EnumSource(ChatFormat.class)
    void promptPlusReplyPrefixesTheNextRender(ChatFormat format) {
        ChatTemplate t = fallback(format);
        List<ChatMessage> conversation = new ArrayList<>(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")));
        String prompt = t.render(conversation, true);
        conversation.add(ChatMessage.assistant("Hello."));
        conversation.add(ChatMessage.user("Bye"));
        String next = t.render(conversation, true);
        String reply = format == ChatFormat.LLAMA2 ? " Hello." : "Hello.";
        assertTrue(next.startsWith(prompt + reply), () -> "not a prefix:\n" + prompt + reply + "\n---\n" + next);
    }

    @Test
    void generationPromptIsOptional() {
        assertEquals("<|im_start|>user\nHi<|im_end|>\n",
                fallback(ChatFormat.CHATML).render(List.of(ChatMessage.user("Hi")), false));
    }

    @Test
    void rendersLlama3InstructTemplate() throws IOException {
        ChatTemplate t = ChatTemplate.of(resource("llama3-instruct.jinja"), "<|begin_of_text|>", "<|end_of_text|>");
        assertEquals(expectedFallback(ChatFormat.LLAMA3), t.render(WITH_SYSTEM, true));
        List<ChatMessage> padded = List.of(ChatMessage.user("  spaced out \n"));
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nspaced out<|eot_id|>",
                t.render(padded, false));
    }

    @Test
    void rendersChatmlTemplateWithDefaultSystemPrompt() throws IOException {
        ChatTemplate t = ChatTemplate.of(resource("chatml-qwen2.jinja"), "", "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n"
                + "<|im_start|>assistant\n", t.render(TWO_TURNS, true));
        assertEquals(expectedFallback(ChatFormat.CHATML), t.render(WITH_SYSTEM, true));
    }

    @Test
    void rendersQwen3StyleTemplateWithPythonStringMethods() throws IOException {
        ChatTemplate t = ChatTemplate.of(resource("qwen3-thinking.jinja"), "", "<|im_end|>");
        List<ChatMessage> conversation = List.of(ChatMessage.system("S"), ChatMessage.user("U1"),
                ChatMessage.assistant("<think>\nreasoning\n</think>\n\nA1"), ChatMessage.user("U2"));
        assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1"
                + "<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n", t.render(conversation, true));
        List<ChatMessage> answered = List.of(ChatMessage.user("U1"), ChatMessage.assistant("<think>\nr\n</think>\n\nA1"));
        assertEquals("<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\n<think>\nr\n</think>\n\nA1<|im_end|>\n",
                t.render(answered, false));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(new ChatMessage("tool", "x")), true));
        assertEquals("the chat template rejected the conversation: Unexpected message role: tool", e.getMessage());
    }

    @Test
    void strftimeNowReadsTheClock() throws IOException {
        Clock clock = Clock.fixed(Instant.parse("2024-07-23T10:00:00Z"), ZoneOffset.UTC);
        ChatTemplate t = ChatTemplate.of(resource("llama31-dated.jinja"), "<|begin_of_text|>", "<|eot_id|>").withClock(clock);
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
                + "Today Date: 23 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                t.render(List.of(ChatMessage.system(" Be brief. "), ChatMessage.user("Hi")), true));
    }

    private static String render(String source, String content) {
        return ChatTemplate.of(source, "", "").render(List.of(ChatMessage.user(content)), false);
    }

    @Test
    void pythonStringMethods() {
        Map<String, String> cases = Map.ofEntries(
                Map.entry("{{ messages[0].content.strip() }}|", "a b,c|"),
                Map.entry("{{ messages[0].content.strip(' \\t') }}|", "a b,c\n|"),
                Map.entry("{{ messages[0].content.lstrip() }}|", "a b,c\n|"),
                Map.entry("{{ messages[0].content.rstrip() }}|", " \ta b,c|"),
                Map.entry("{{ messages[0].content.split() | join('/') }}", "a/b,c"),
                Map.entry("{{ messages[0].content.split(',') | join('/') }}", " \ta b/c\n"),
                Map.entry("{{ 'a.b.c'.split('.', 1) | join('/') }}", "a/b.c"),
                Map.entry("{{ 'a.b.c'.rsplit('.', 1) | join('/') }}", "a.b/c"),
                Map.entry("{{ ' x  y z '.rsplit(none, 1) | join('/') }}", " x  y/z"),
                Map.entry("{{ 'a..b'.split('.') | length }}", "3"),
                Map.entry("{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('x', 'lo')) }}", "true true"),
                Map.entry("{{ 'MiXed'.upper() }} {{ 'MiXed'.lower() }} {{ 'hello wORLD'.title() }} {{ 'hELLO'.capitalize() }}",
                        "MIXED mixed Hello World Hello"),
                Map.entry("{{ 'aaa'.replace('a', 'b', 2) }} {{ 'aaa'.replace('a', 'b') }}", "bba bbb"),
                Map.entry("{{ 'banana'.find('na') }} {{ 'banana'.count('a') }} {{ ', '.join(['x', 'y']) }}", "2 3 x, y"));
        cases.forEach((source, expected) -> assertEquals(expected, render(source, " \ta b,c\n"), source));
    }

    @Test
    void templateErrorsAreClear() {
        ChatTemplateException syntax = assertThrows(ChatTemplateException.class, () -> render("x\n{% if %}", ""));
        assertTrue(syntax.getMessage().startsWith("chat template error (line 2): "), syntax.getMessage());
        ChatTemplateException unclosed = assertThrows(ChatTemplateException.class,
                () -> render("{% for m in messages %}{{ m.content }}", ""));
        assertTrue(unclosed.getMessage().contains("endfor"), unclosed.getMessage());
        ChatTemplateException method = assertThrows(ChatTemplateException.class,
                () -> render("{{ messages[0].content.frobnicate() }}", ""));
        assertTrue(method.getMessage().contains("frobnicate"), method.getMessage());
        ChatTemplateException raised = assertThrows(ChatTemplateException.class,
                () -> render("{{ raise_exception('Conversation roles must alternate user/assistant') }}", ""));
        assertEquals("the chat template rejected the conversation: Conversation roles must alternate user/assistant",
                raised.getMessage());
        ChatTemplateException include = assertThrows(ChatTemplateException.class,
                () -> render("{% include '/etc/passwd' %}", ""));
        assertTrue(include.getMessage().contains("cannot include"), include.getMessage());
    }

    @Test
    void dropsOneTrailingNewlineOfTheSource() {
        assertEquals("Hi\n", render("{{ messages[0].content }}\n\n", "Hi"));
    }
}
