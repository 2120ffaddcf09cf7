package dev.gale.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.config.UnsupportedModelException;
import dev.gale.model.gguf.GgufMetadata;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizer rules on small vocabularies written for the test (no shared data needed). */
class SyntheticVocabTest {
    @TempDir
    Path dir;

    private static final String[] SPM_TOKENS = {
        "<unk>", "<s>", "</s>", "<0xC3>", "<0xA9>", "▁", "a", "b", "ab", "▁a", "▁ab", "<x>", "<x>y", "@@", "<|im_end|>"};
    private static final int[] SPM_TYPES = {2, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 3, 3, 4, 1};
    private static final float[] SPM_SCORES = {0, 0, 0, 0, 0, -1, -2, -2, -3, -4, -5, 0, 0, 0, 0};

    private GgufTestWriter spm() {
        return new GgufTestWriter()
                .put("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", SPM_TOKENS)
                .put("tokenizer.ggml.token_type", SPM_TYPES)
                .put("tokenizer.ggml.scores", SPM_SCORES);
    }

    private static GgufTestWriter bpe(String pre) {
        GgufTestWriter w = new GgufTestWriter()
                .put("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.tokens", new String[] {"a", "b", "c", "abc", "Ġ", "<|endoftext|>"})
                .put("tokenizer.ggml.token_type", new int[] {1, 1, 1, 1, 1, 3})
                // "ab" is no token: the merge still happens, and "ab c" then gives a token
                .put("tokenizer.ggml.merges", new String[] {"a b", "ab c", "a b"});
        if (pre != null) {
            w.put("tokenizer.ggml.pre", pre);
        }
        return w;
    }

    @Test
    void sentencePieceMergesByScore() {
        Tokenizer t = Tokenizers.fromGguf(spm().metadata(dir));
        assertInstanceOf(SentencePieceTokenizer.class, t);
        // "▁ab": "ab" (score -3) beats "▁a" (-4), then "▁" + "ab" forms "▁ab"
        assertArrayEquals(new int[] {10}, t.encode("ab"));
        assertArrayEquals(new int[] {1, 10}, t.encode("ab", true, false));
        assertTrue(t.addBos());
        assertEquals(" ab", t.decode(new int[] {10}));
    }

    @Test
    void sentencePieceByteFallbackAndUnknown() {
        Tokenizer t = Tokenizers.fromGguf(spm().metadata(dir));
        assertArrayEquals(new int[] {5, 3, 4}, t.encode("é"), "é = C3 A9, both byte tokens exist");
        assertArrayEquals(new int[] {5, 3, 0}, t.encode("ä"), "ä = C3 A4, no <0xA4>: unknown token");
        assertEquals(" é", t.decode(new int[] {5, 3, 4}));
    }

    @Test
    void sentencePieceWithoutSpacePrefix() {
        Tokenizer t = Tokenizers.fromGguf(spm().put("tokenizer.ggml.add_space_prefix", false).metadata(dir));
        assertArrayEquals(new int[] {8}, t.encode("ab"));
    }

    @Test
    void specialTokensLongestFirstAndSpacePrefixAfterThem() {
        Tokenizer t = Tokenizers.fromGguf(spm().metadata(dir));
        // control tokens only with parse_special; "<x>y" wins over "<x>"; text after a special token gets a "▁"
        assertArrayEquals(new int[] {9, 12, 11, 5, 7}, t.encode("a<x>y<x>b", false, true));
        // the user-defined "@@" is always split out
        assertArrayEquals(new int[] {9, 13, 5, 7}, t.encode("a@@b", false, false));
        int[] plain = t.encode("<x>", false, false);
        assertFalse(plain.length == 1 && plain[0] == 11, "control token matched without parse_special");
    }

    @Test
    void endOfTurnTextsBecomeControlAndEndGeneration() {
        Tokenizer t = Tokenizers.fromGguf(spm().metadata(dir));
        assertTrue(t.isControl(14), "<|im_end|> typed normal is treated as control");
        assertEquals(Set.of(2, 14), t.endOfGenerationIds());
        assertEquals(2, t.eosId());
        assertArrayEquals(new byte[0], t.tokenBytes(14, false));

        Tokenizer withEot = Tokenizers.fromGguf(spm().put("tokenizer.ggml.eot_token_id", 11).metadata(dir));
        assertEquals(Set.of(2, 11, 14), withEot.endOfGenerationIds());
    }

    @Test
    void addBosAndEosKeys() {
        Tokenizer t = Tokenizers.fromGguf(spm().put("tokenizer.ggml.add_bos_token", false)
                .put("tokenizer.ggml.add_eos_token", true).metadata(dir));
        assertFalse(t.addBos());
        assertArrayEquals(new int[] {10, 2}, t.encode("ab", true, false));
        assertArrayEquals(new int[] {10}, t.encode("ab", false, false));
    }

    @Test
    void bpeMergesThroughPartsThatAreNoTokens() {
        Tokenizer t = Tokenizers.fromGguf(bpe("gpt-2").metadata(dir));
        assertInstanceOf(BpeTokenizer.class, t);
        assertEquals(2, ((BpeTokenizer) t).mergeCount(), "the repeated merge keeps its first rank");
        assertArrayEquals(new int[] {3}, t.encode("abc"));
        // "ab" is a merged symbol but no token: llama.cpp falls back to its single-byte tokens
        assertArrayEquals(new int[] {0, 1}, t.encode("ab"));
        assertArrayEquals(new int[] {3, 4, 3}, t.encode("abc abc"), "' abc' is no token; 'Ġ' + 'abc' do not merge");
        assertEquals("abc abc", t.decode(new int[] {3, 4, 3}));
    }

    @Test
    void bpeAddBosDefaultDependsOnPreTokenizer() {
        Tokenizer gpt2 = Tokenizers.fromGguf(bpe("gpt-2").put("tokenizer.ggml.bos_token_id", 5).metadata(dir));
        assertFalse(gpt2.addBos());
        Tokenizer llama3 = Tokenizers.fromGguf(bpe("llama-bpe").put("tokenizer.ggml.bos_token_id", 5).metadata(dir));
        assertTrue(llama3.addBos());
        assertArrayEquals(new int[] {5, 3}, llama3.encode("abc", true, false));
        Tokenizer none = Tokenizers.fromGguf(bpe(null).metadata(dir));
        assertEquals("default", ((BpeTokenizer) none).preTokenizer());
        assertEquals(-1, none.bosId());
        assertArrayEquals(new int[] {3}, none.encode("abc", true, false));
    }

    @Test
    void unsupportedTokenizerModel() {
        GgufMetadata md = new GgufTestWriter().put("tokenizer.ggml.model", "bert")
                .put("tokenizer.ggml.tokens", new String[] {"a"}).metadata(dir);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Tokenizers.fromGguf(md));
        assertTrue(e.getMessage().contains("'bert'"), e.getMessage());
        assertTrue(e.getMessage().contains("llama") && e.getMessage().contains("gpt2"), e.getMessage());

        GgufMetadata none = new GgufTestWriter().put("general.name", "x").metadata(dir);
        assertThrows(UnsupportedModelException.class, () -> Tokenizers.fromGguf(none));
    }

    @Test
    void unsupportedPreTokenizer() {
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> Tokenizers.fromGguf(bpe("not-a-pre").metadata(dir)));
        assertTrue(e.getMessage().contains("'not-a-pre'"), e.getMessage());
        assertTrue(e.getMessage().contains("llama-bpe") && e.getMessage().contains("qwen2"), e.getMessage());
    }

    @Test
    void mismatchedArraysAreReported() {
        GgufMetadata md = spm().put("tokenizer.ggml.scores", new float[] {1, 2}).metadata(dir);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> Tokenizers.fromGguf(md));
        assertTrue(e.getMessage().contains("tokenizer.ggml.scores"), e.getMessage());
    }
}
