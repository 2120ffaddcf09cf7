package dev.gale.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The word-splitting expressions, and that Java's Unicode classes behave as llama.cpp's tables do. */
class PreTokenizerTest {
    private static final PreTokenizer GPT2 = new PreTokenizer("gpt-2", PreTokenizer.GPT2);
    private static final PreTokenizer LLAMA3 = new PreTokenizer("llama-bpe", PreTokenizer.LLAMA3);
    private static final PreTokenizer QWEN2 = new PreTokenizer("qwen2", PreTokenizer.QWEN2);
    private static final PreTokenizer DEFAULT = new PreTokenizer("default", PreTokenizer.DEFAULT);

    private static List<String> split(PreTokenizer p, String text) {
        IntList b = p.split(text, 0, text.length());
        List<String> words = new ArrayList<>();
        for (int i = 0; i < b.size(); i += 2) {
            words.add(text.substring(b.get(i), b.get(i + 1)));
        }
        return words;
    }

    @Test
    void gpt2() {
        assertEquals(List.of("Hello", " world", "!"), split(GPT2, "Hello world!"));
        assertEquals(List.of(" ", " Hello"), split(GPT2, "  Hello"));
        assertEquals(List.of("I", "'m", " here", "'s"), split(GPT2, "I'm here's"));
        assertEquals(List.of("x", "²", " 123456"), split(GPT2, "x² 123456"));
        // text no alternative matches (a non-space whitespace before a letter) stays a piece of its own
        assertEquals(List.of("a", "\u00A0", "b"), split(GPT2, "a\u00A0b"));
        assertEquals(List.of("a", "\n", "b", "   "), split(GPT2, "a\nb   "));
    }

    @Test
    void llama3() {
        assertEquals(List.of("123", "45"), split(LLAMA3, "12345"));
        assertEquals(List.of("Hello", "\n\n", "world"), split(LLAMA3, "Hello\n\nworld"));
        assertEquals(List.of(" ", " x"), split(LLAMA3, "  x"));
        assertEquals(List.of("don", "'T"), split(LLAMA3, "don'T"));
        // one non-letter, non-digit, non-newline character may lead a word: also unicode whitespace
        assertEquals(List.of("\u3000x"), split(LLAMA3, "\u3000x"));
        assertEquals(List.of(" (\n", "x"), split(LLAMA3, " (\nx"), "punctuation takes the newlines after it");
        // \s*[\r\n]+ takes unicode whitespace before a newline
        assertEquals(List.of("\u2028\u0085\n"), split(LLAMA3, "\u2028\u0085\n"));
    }

    @Test
    void qwen2SplitsSingleDigits() {
        assertEquals(List.of("1", "2", "3", "4", "5"), split(QWEN2, "12345"));
        assertEquals(List.of("Hello", " world"), split(QWEN2, "Hello world"));
    }

    @Test
    void defaultAppliesItsExpressionsInTurn() {
        // punctuation runs first, then GPT-2's expression, digit runs, and digit triples (the rest stays a piece)
        assertEquals(List.of("a", "+", "b", "=", "123", "4"), split(DEFAULT, "a+b=1234"));
    }

    @Test
    void unicodeClassesMatchLlamaCpp() {
        // \s is Unicode White_Space, including NEL, NBSP and the ideographic space; \p{N} includes No and Nl
        for (String ws : new String[] {"\u0085", "\u00A0", "\u1680", "\u2000", "\u200A", "\u2028", "\u2029",
            "\u202F", "\u205F", "\u3000", "\u000B", "\f"}) {
            assertEquals(List.of("a", ws + ws), split(GPT2, "a" + ws + ws),
                    () -> "U+" + Integer.toHexString(ws.charAt(0)));
        }
        // not White_Space: the zero-width space and the information separators
        assertEquals(List.of("a", "\u200B"), split(GPT2, "a\u200B"));
        assertEquals(List.of("a", "\u001F"), split(GPT2, "a\u001F"));
        assertEquals(List.of("Ⅻ", "²", "٣"), split(QWEN2, "Ⅻ²٣"));
        assertEquals(List.of("𐐀𐐨", " 𝟙"), split(GPT2, "𐐀𐐨 𝟙"), "letters and digits outside the BMP");
    }
}
