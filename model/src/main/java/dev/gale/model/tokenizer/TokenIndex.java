package dev.gale.model.tokenizer;

import java.util.Arrays;

/**
 * Token text to id, as an open-addressing table that can look up a stretch of a string (or two stretches joined)
 * without building a substring. Hashes are {@link String#hashCode()}'s, so the vocabulary's own strings hash once.
 * A text that occurs twice maps to its last id, as in llama.cpp.
 */
final class TokenIndex {
    private final String[] texts;
    private final int[] slots;
    private final int mask;

    TokenIndex(String[] texts) {
        this.texts = texts;
        int cap = Integer.highestOneBit(Math.max(16, texts.length * 2) - 1) << 1;
        slots = new int[cap];
        Arrays.fill(slots, -1);
        mask = cap - 1;
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            int i = mix(t.hashCode()) & mask;
            while (slots[i] >= 0 && !texts[slots[i]].equals(t)) {
                i = (i + 1) & mask;
            }
            slots[i] = id;
        }
    }

    private static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** The id of a whole text, or -1. */
    int get(String text) {
        return get(text, 0, text.length());
    }

    /** The id of the text {@code s[from, to)}, or -1. */
    int get(CharSequence s, int from, int to) {
        int h = 0;
        for (int k = from; k < to; k++) {
            h = 31 * h + s.charAt(k);
        }
        int len = to - from;
        for (int i = mix(h) & mask; ; i = (i + 1) & mask) {
            int id = slots[i];
            if (id < 0) {
                return -1;
            }
            String t = texts[id];
            if (t.length() == len && t.hashCode() == h && regionEquals(t, 0, s, from, to)) {
                return id;
            }
        }
    }

    /** The id of the text {@code s[from1, to1) + s[from2, to2)}, or -1. */
    int get(CharSequence s, int from1, int to1, int from2, int to2) {
        int h = 0;
        for (int k = from1; k < to1; k++) {
            h = 31 * h + s.charAt(k);
        }
        for (int k = from2; k < to2; k++) {
            h = 31 * h + s.charAt(k);
        }
        int len1 = to1 - from1;
        int len = len1 + to2 - from2;
        for (int i = mix(h) & mask; ; i = (i + 1) & mask) {
            int id = slots[i];
            if (id < 0) {
                return -1;
            }
            String t = texts[id];
            if (t.length() == len && t.hashCode() == h && regionEquals(t, 0, s, from1, to1)
                    && regionEquals(t, len1, s, from2, to2)) {
                return id;
            }
        }
    }

    private static boolean regionEquals(String t, int at, CharSequence s, int from, int to) {
        for (int k = from; k < to; k++) {
            if (t.charAt(at++) != s.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}
