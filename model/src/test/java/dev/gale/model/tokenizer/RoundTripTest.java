package dev.gale.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** decode(encode(s)) gives s back: always for byte-level BPE, and after the prefixed space for SentencePiece. */
@AddLifecycleHook(SkipWithoutSharedData.class)
class RoundTripTest {
    /** Pieces that exercise the pre-tokenizers: scripts, digits, contractions, all kinds of whitespace, emoji. */
    private static final String[] PIECES = {
        "a", "Hello", " world", "I", "'s", "'LL", "'re", "'", "3", "333", "1234567", "3.14", "..", "!!!", "?", "```",
        " ", "  ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00A0", "\u3000", "\u2028", "\u0085", "\u2009", "\u000B",
        "é", "Việt", "Cửa", "ß", "Привет", "мир", "你好", "世界", "日本語", "ជាន់", "ខ្មែរ", "ا", "עברית", "\u0301",
        "😊", "🦙", "👩‍💻", "🏳️‍🌈", "✅", "\uD83D\uDE00", "\uFFFD", "\u0000", "\u007F", "<", ">", "<|", "|>", "_",
        "<|im_start|>", "<|endoftext|>", "<think>", "<s>", "</s>", "<0x0A>", "Ġ", "Ċ", "▁",
    };

    @Provide
    Arbitrary<String> texts() {
        Arbitrary<String> pieces = Arbitraries.of(PIECES).list().ofMaxSize(12).map(l -> String.join("", l));
        Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(24).filter(RoundTripTest::wellFormed);
        Arbitrary<String> mixed = Arbitraries.oneOf(Arbitraries.of(PIECES), any.map(s -> s.length() > 4
                ? s.substring(0, s.offsetByCodePoints(0, Math.min(4, s.codePointCount(0, s.length())))) : s))
                .list().ofMaxSize(8).map(l -> String.join("", l));
        // unpaired surrogates have no UTF-8 form (they are encoded as U+FFFD), so they cannot come back
        return Arbitraries.oneOf(pieces, any, mixed).filter(RoundTripTest::wellFormed);
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static void assertRoundTrip(Tokenizer t, String text, String expected) {
        int[] ids = t.encode(text);
        assertEquals(expected, t.decode(ids), () -> "ids " + Arrays.toString(ids));
    }

    @Property(tries = 400)
    void gpt2RoundTrips(@ForAll("texts") String text) {
        assertRoundTrip(TestVocabs.tokenizer(TestVocabs.GPT2), text, text);
    }

    @Property(tries = 400)
    void llama3RoundTrips(@ForAll("texts") String text) {
        assertRoundTrip(TestVocabs.tokenizer(TestVocabs.LLAMA3), text, text);
    }

    @Property(tries = 400)
    void qwen2RoundTrips(@ForAll("texts") String text) {
        assertRoundTrip(TestVocabs.tokenizer(TestVocabs.QWEN2), text, text);
    }

    @Property(tries = 400)
    void sentencePieceRoundTripsAfterTheLeadingSpace(@ForAll("texts") String text) {
        // "▁" itself decodes to a space, so it cannot come back
        String s = text.replace("▁", "");
        assertRoundTrip(TestVocabs.tokenizer(TestVocabs.LLAMA_SPM), s, s.isEmpty() ? "" : " " + s);
    }
}
