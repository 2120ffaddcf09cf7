package dev.gale.model.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's reversible byte-to-character mapping used by byte-level BPE vocabularies: printable Latin-1 bytes stand
 * for themselves, the other 68 bytes are shifted to U+0100..U+0143 in byte order (so the space is {@code Ġ} U+0120
 * and the newline {@code Ċ} U+010A). Every mapped character is a single UTF-16 char.
 */
final class ByteLevel {
    /** Byte value to its character. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Character (below {@link #CHAR_LIMIT}) to its byte value, or -1. */
    private static final short[] CHAR_TO_BYTE;
    /** One more than the largest mapped character. */
    static final int CHAR_LIMIT = 0x144;

    static {
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + shifted++);
        }
        CHAR_TO_BYTE = new short[CHAR_LIMIT];
        Arrays.fill(CHAR_TO_BYTE, (short) -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = (short) b;
        }
    }

    private ByteLevel() {
    }

    static char toChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a mapped character stands for, or -1 if the character is not part of the mapping. */
    static int toByte(char c) {
        return c < CHAR_LIMIT ? CHAR_TO_BYTE[c] : -1;
    }

    /** Maps the UTF-8 bytes of {@code text[from, to)} to characters (unpaired surrogates count as U+FFFD). */
    static char[] encode(CharSequence text, int from, int to) {
        char[] out = new char[Utf8.length(text, from, to)];
        int n = 0;
        for (int i = from; i < to; ) {
            int cp = Utf8.codePointAt(text, i, to);
            i += Character.charCount(cp);
            if (cp < 0x80) {
                out[n++] = BYTE_TO_CHAR[cp];
            } else if (cp < 0x800) {
                out[n++] = BYTE_TO_CHAR[0xC0 | (cp >>> 6)];
                out[n++] = BYTE_TO_CHAR[0x80 | (cp & 0x3F)];
            } else if (cp < 0x10000) {
                out[n++] = BYTE_TO_CHAR[0xE0 | (cp >>> 12)];
                out[n++] = BYTE_TO_CHAR[0x80 | ((cp >>> 6) & 0x3F)];
                out[n++] = BYTE_TO_CHAR[0x80 | (cp & 0x3F)];
            } else {
                out[n++] = BYTE_TO_CHAR[0xF0 | (cp >>> 18)];
                out[n++] = BYTE_TO_CHAR[0x80 | ((cp >>> 12) & 0x3F)];
                out[n++] = BYTE_TO_CHAR[0x80 | ((cp >>> 6) & 0x3F)];
                out[n++] = BYTE_TO_CHAR[0x80 | (cp & 0x3F)];
            }
        }
        return out;
    }
}
