package dev.gale.model.tokenizer;

/** UTF-8 helpers that treat unpaired surrogates as U+FFFD (Java's own encoder would write '?'). */
final class Utf8 {
    private Utf8() {
    }

    /** The code point at {@code i}, U+FFFD for an unpaired surrogate; never reads at or past {@code end}. */
    static int codePointAt(CharSequence s, int i, int end) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1))) {
            return Character.toCodePoint(c, s.charAt(i + 1));
        }
        return Character.isSurrogate(c) ? 0xFFFD : c;
    }

    /** Number of UTF-8 bytes of {@code s[from, to)}. */
    static int length(CharSequence s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; ) {
            int cp = codePointAt(s, i, to);
            i += Character.charCount(cp);
            n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        return n;
    }

    static byte[] encode(CharSequence s) {
        return encode(s, 0, s.length());
    }

    static byte[] encode(CharSequence s, int from, int to) {
        byte[] out = new byte[length(s, from, to)];
        int n = 0;
        for (int i = from; i < to; ) {
            int cp = codePointAt(s, i, to);
            i += Character.charCount(cp);
            if (cp < 0x80) {
                out[n++] = (byte) cp;
            } else if (cp < 0x800) {
                out[n++] = (byte) (0xC0 | (cp >>> 6));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[n++] = (byte) (0xE0 | (cp >>> 12));
                out[n++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                out[n++] = (byte) (0xF0 | (cp >>> 18));
                out[n++] = (byte) (0x80 | ((cp >>> 12) & 0x3F));
                out[n++] = (byte) (0x80 | ((cp >>> 6) & 0x3F));
                out[n++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return out;
    }
}
