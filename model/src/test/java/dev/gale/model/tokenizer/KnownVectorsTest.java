package dev.gale.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Ids checked against llama.cpp (models/README.md) and the behaviour around special tokens on the real vocabularies. */
class KnownVectorsTest {
    private static final String QWEN_CHAT = "<|im_start|>user\nhi<|im_end|>";
    private static final String LLAMA3_CHAT =
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>";

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void qwen2PlainText() {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.QWEN2);
        assertArrayEquals(new int[] {14990, 1879}, t.encode("hello world"));
        assertArrayEquals(new int[] {40, 2776}, t.encode("I'm"));
        assertArrayEquals(new int[] {144236}, t.encode("😊"));
    }

    @Test
    void qwen2ChatMarkersWithParseSpecial() {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.QWEN2);
        int[] ids = t.encode(QWEN_CHAT, false, true);
        assertArrayEquals(new int[] {151644, 872, 198, 6023, 151645}, ids);
        assertEquals("user\nhi", t.decode(ids), "control tokens are not printed");
        StringBuilder withSpecials = new StringBuilder();
        for (int id : ids) {
            withSpecials.append(utf8(t.tokenBytes(id, true)));
        }
        assertEquals(QWEN_CHAT, withSpecials.toString());
    }

    @Test
    void controlTokensAreTextWithoutParseSpecial() {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.QWEN2);
        int[] ids = t.encode(QWEN_CHAT, false, false);
        assertTrue(Arrays.stream(ids).noneMatch(t::isControl), () -> Arrays.toString(ids));
        assertEquals(QWEN_CHAT, t.decode(ids));

        Tokenizer llama3 = TestVocabs.tokenizer(TestVocabs.LLAMA3);
        int[] ids3 = llama3.encode(LLAMA3_CHAT, false, false);
        assertTrue(Arrays.stream(ids3).noneMatch(llama3::isControl), () -> Arrays.toString(ids3));
        assertEquals(LLAMA3_CHAT, llama3.decode(ids3));
    }

    @Test
    void userDefinedTokensAreAlwaysMatchedAsInLlamaCpp() {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.QWEN2);
        // <think> is user-defined (type 4): llama.cpp (like Hugging Face) splits it out even without parse_special
        assertArrayEquals(new int[] {151667}, t.encode("<think>", false, false));
        assertFalse(t.isControl(151667));
        assertEquals("<think>", t.decode(new int[] {151667}));
        // <|fim_prefix|> is user-defined in the file, but llama.cpp makes FIM tokens control tokens
        assertTrue(t.isControl(151659));
        assertFalse(Arrays.stream(t.encode("<|fim_prefix|>", false, false)).anyMatch(id -> id == 151659));
        assertArrayEquals(new int[] {151659}, t.encode("<|fim_prefix|>", false, true));
    }

    @Test
    void llama3ChatMarkersWithParseSpecial() {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.LLAMA3);
        assertArrayEquals(new int[] {128000, 128006, 882, 128007, 271, 9906, 128009}, t.encode(LLAMA3_CHAT, false, true));
        // add_bos_token = true: BOS is added even if the text starts with one (llama.cpp only warns)
        assertArrayEquals(new int[] {128000, 128000, 128006, 882, 128007, 271, 9906, 128009},
                t.encode(LLAMA3_CHAT, true, true));
        assertArrayEquals(new int[] {128000, 9906}, t.encode("Hello", true, false));
    }

    @Test
    void llama3WholeWordLookup() {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.LLAMA3);
        // without ignore_merges this would be [11655, 26298, 83]
        assertArrayEquals(new int[] {101798}, t.encode(" Việt"));
    }

    @Test
    void stories260kWithBos() {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.STORIES);
        assertTrue(t instanceof SentencePieceTokenizer);
        assertTrue(t.addBos(), "llama tokenizers add BOS by default");
        int[] once = t.encode("Once upon a time", true, false);
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, once);
        assertArrayEquals(new int[] {1, 317, 391, 266, 267}, t.encode("Lily wanted to", true, false));
        assertEquals(" Once upon a time", t.decode(once));
        assertArrayEquals(new int[] {403, 407, 261, 378}, t.encode("Once upon a time"));
    }

    @Test
    void bosEosAndDefaults() {
        Tokenizer spm = TestVocabs.tokenizer(TestVocabs.LLAMA_SPM);
        assertEquals(1, spm.bosId());
        assertEquals(2, spm.eosId());
        assertTrue(spm.addBos());
        assertArrayEquals(new int[] {1, 15043, 3186}, spm.encode("Hello world", true, false));
        assertArrayEquals(new int[] {1}, spm.encode("", true, false));
        assertArrayEquals(new int[0], spm.encode("", false, false));

        Tokenizer gpt2 = TestVocabs.tokenizer(TestVocabs.GPT2);
        assertEquals(50256, gpt2.bosId());
        assertFalse(gpt2.addBos(), "gpt2 vocabularies without add_bos_token add no BOS");
        assertArrayEquals(gpt2.encode("Hello"), gpt2.encode("Hello", true, false));

        Tokenizer qwen = TestVocabs.tokenizer(TestVocabs.QWEN2);
        assertFalse(qwen.addBos());
        assertEquals(151645, qwen.eosId());
        assertArrayEquals(new int[] {14990, 1879}, qwen.encode("hello world", true, false));

        Tokenizer llama3 = TestVocabs.tokenizer(TestVocabs.LLAMA3);
        assertTrue(llama3.addBos());
        assertEquals(128000, llama3.bosId());
        assertEquals(128001, llama3.eosId());
    }

    @Test
    void endOfGenerationIds() {
        assertEquals(Set.of(2), TestVocabs.tokenizer(TestVocabs.LLAMA_SPM).endOfGenerationIds());
        assertEquals(Set.of(50256), TestVocabs.tokenizer(TestVocabs.GPT2).endOfGenerationIds());
        // <|endoftext|> (eos) and <|end|>
        assertEquals(Set.of(32000, 32007), TestVocabs.tokenizer(TestVocabs.PHI3).endOfGenerationIds());
        // <|end_of_text|> (eos), <|eom_id|>, <|eot_id|>
        assertEquals(Set.of(128001, 128008, 128009), TestVocabs.tokenizer(TestVocabs.LLAMA3).endOfGenerationIds());
        // <|endoftext|>, <|im_end|> (eos), and as in llama.cpp the FIM pad / repo / file-separator tokens
        assertEquals(Set.of(151643, 151645, 151662, 151663, 151664),
                TestVocabs.tokenizer(TestVocabs.QWEN2).endOfGenerationIds());
    }

    @Test
    void phi3StripsWhitespaceAfterChatMarkers() {
        // llama.cpp marks Phi-3's special tokens rstrip (general.name contains "phi3")
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.PHI3);
        int[] ids = t.encode("<|user|>\nHi<|end|>\n<|assistant|>\n", false, true);
        assertEquals(32010, ids[0]);
        assertEquals(32001, ids[ids.length - 1]);
        assertArrayEquals(t.encode("<|user|>Hi<|end|><|assistant|>", false, true), ids);
        // </s> is user-defined in this file: matched even without parse_special
        assertArrayEquals(new int[] {2}, t.encode("</s>", false, false));
    }

    @Test
    void sharedAcrossThreads() throws Exception {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.LLAMA3);
        String[] texts = new String[64];
        int[][] expected = new int[texts.length][];
        for (int i = 0; i < texts.length; i++) {
            texts[i] = "Thread " + i + ": Cửa Việt 🦙 <|eot_id|> " + "x".repeat(i) + " 12345";
            expected[i] = t.encode(texts[i], true, true);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<int[]>> results = new ArrayList<>();
            for (int round = 0; round < 8; round++) {
                for (String text : texts) {
                    results.add(pool.submit(() -> t.encode(text, true, true)));
                }
            }
            for (int i = 0; i < results.size(); i++) {
                assertArrayEquals(expected[i % texts.length], results.get(i).get());
            }
        }
    }

    @Test
    void piecesAndBytes() {
        Tokenizer spm = TestVocabs.tokenizer(TestVocabs.LLAMA_SPM);
        assertEquals(32000, spm.vocabSize());
        assertEquals("<0x0A>", spm.piece(13));
        assertArrayEquals(new byte[] {10}, spm.tokenBytes(13, false));
        assertEquals(15043, spm.tokenId("▁Hello"));
        assertEquals(-1, spm.tokenId("no such token"));
        assertEquals(" Hello", utf8(spm.tokenBytes(15043, false)));
        assertArrayEquals(new byte[0], spm.tokenBytes(1, false));
        assertEquals("<s>", utf8(spm.tokenBytes(1, true)));
        assertTrue(spm.isControl(1));
        assertFalse(spm.isControl(15043));
        int e2 = spm.tokenId("<0xE2>");
        int x82 = spm.tokenId("<0x82>");
        int xac = spm.tokenId("<0xAC>");
        assertEquals("€", spm.decode(new int[] {e2, x82, xac}));
        assertEquals("\uFFFD", spm.decode(new int[] {e2, x82}), "an incomplete character decodes to U+FFFD");
        assertThrows(IllegalArgumentException.class, () -> spm.tokenBytes(32000, false));
        assertThrows(IllegalArgumentException.class, () -> spm.piece(-1));

        Tokenizer gpt2 = TestVocabs.tokenizer(TestVocabs.GPT2);
        int the = gpt2.tokenId("Ġthe");
        assertTrue(the >= 0);
        assertEquals(" the", utf8(gpt2.tokenBytes(the, false)));
        assertEquals("\n", utf8(gpt2.tokenBytes(gpt2.tokenId("Ċ"), false)));
        assertEquals("<|endoftext|>", gpt2.piece(50256));
        assertEquals("", gpt2.decode(new int[] {50256}));

        Tokenizer llama3 = TestVocabs.tokenizer(TestVocabs.LLAMA3);
        assertArrayEquals(new byte[0], llama3.tokenBytes(128009, false));
        assertEquals("<|eot_id|>", utf8(llama3.tokenBytes(128009, true)));
    }
}
