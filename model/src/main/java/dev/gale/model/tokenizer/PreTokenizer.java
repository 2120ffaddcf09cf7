package dev.gale.model.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE, with the regular expressions llama.cpp uses for each
 * {@code tokenizer.ggml.pre}. Expressions are applied one after the other, each splitting the pieces the previous one
 * left; text an expression does not match stays a piece of its own (as in llama.cpp's {@code unicode_regex_split}).
 * Each expression sees one piece at a time (opaque region bounds), so a look-ahead never looks past a piece.
 *
 * <p>{@link Pattern#UNICODE_CHARACTER_CLASS} makes {@code \s} the Unicode White_Space set (tab..CR, space, U+0085,
 * U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), as in llama.cpp's Unicode tables;
 * {@code \p{L}} and {@code \p{N}} are the Unicode general categories L and N.
 */
final class PreTokenizer {
    /** GPT-2's expression (llama.cpp's {@code LLAMA_VOCAB_PRE_TYPE_GPT2}). */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    /** Llama 3's expression, with the case-insensitive contractions spelled out as llama.cpp does. */
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's expression: Llama 3's with single digits. */
    static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** llama.cpp's fallback for {@code pre = "default"} or no pre key. */
    static final String[] DEFAULT = {"[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"};

    private final String name;
    private final Pattern[] patterns;

    PreTokenizer(String name, String... expressions) {
        this.name = name;
        this.patterns = new Pattern[expressions.length];
        for (int i = 0; i < expressions.length; i++) {
            patterns[i] = Pattern.compile(expressions[i], Pattern.UNICODE_CHARACTER_CLASS);
        }
    }

    String name() {
        return name;
    }

    /** Splits {@code text[from, to)}; returns the pieces as {start0, end0, start1, end1, ...}. */
    IntList split(String text, int from, int to) {
        IntList bounds = new IntList(16);
        bounds.add(from);
        bounds.add(to);
        for (Pattern p : patterns) {
            IntList next = new IntList(bounds.size() * 2);
            Matcher m = p.matcher(text);
            for (int i = 0; i < bounds.size(); i += 2) {
                int start = bounds.get(i);
                int end = bounds.get(i + 1);
                m.region(start, end);
                int last = start;
                while (m.find()) {
                    if (m.end() == m.start()) {
                        continue; // none of the expressions can match empty text; be safe anyway
                    }
                    if (m.start() > last) {
                        next.add(last);
                        next.add(m.start());
                    }
                    next.add(m.start());
                    next.add(m.end());
                    last = m.end();
                }
                if (last < end) {
                    next.add(last);
                    next.add(end);
                }
            }
            bounds = next;
        }
        return bounds;
    }
}
