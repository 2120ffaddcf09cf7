package dev.gale.model.tokenizer;

/**
 * Turns a stream of bytes (such as {@link Tokenizer#tokenBytes} of generated tokens, one at a time) into text without
 * ever splitting a character: {@link #feed} returns only complete characters and holds back the bytes of a character
 * that has not ended yet; {@link #flush} ends the stream. Invalid UTF-8 becomes U+FFFD, one for each maximal subpart
 * of an ill-formed sequence (Unicode's recommended practice, as in the WHATWG Encoding Standard), so the result never
 * depends on how the bytes were cut into pieces. ({@code new String(bytes, UTF_8)} differs only in giving a single
 * U+FFFD for some truncated sequences at the very end, e.g. {@code ED A0}.)
 *
 * <p>Not thread-safe: use one decoder per stream.
 */
public final class Utf8StreamDecoder {
    private static final char REPLACEMENT = '\uFFFD';

    /** The start of a character still missing bytes: a valid prefix, at most 3 bytes. */
    private final byte[] pending = new byte[3];
    private int pendingLength;

    /** Decodes the next bytes; returns the characters they complete (possibly empty). */
    public String feed(byte[] bytes) {
        return feed(bytes, 0, bytes.length);
    }

    /** Decodes {@code bytes[offset, offset + length)}; returns the characters they complete (possibly empty). */
    public String feed(byte[] bytes, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
        byte[] buf;
        int end;
        int i;
        if (pendingLength == 0) {
            buf = bytes;
            i = offset;
            end = offset + length;
        } else {
            buf = new byte[pendingLength + length];
            System.arraycopy(pending, 0, buf, 0, pendingLength);
            System.arraycopy(bytes, offset, buf, pendingLength, length);
            i = 0;
            end = buf.length;
            pendingLength = 0;
        }
        StringBuilder sb = new StringBuilder(end - i);
        while (i < end) {
            int b0 = buf[i] & 0xFF;
            if (b0 < 0x80) {
                sb.append((char) b0);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                if (b0 == 0xE0) {
                    lo = 0xA0; // no overlong forms
                } else if (b0 == 0xED) {
                    hi = 0x9F; // no surrogates
                }
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                if (b0 == 0xF0) {
                    lo = 0x90; // no overlong forms
                } else if (b0 == 0xF4) {
                    hi = 0x8F; // nothing above U+10FFFF
                }
            } else {
                sb.append(REPLACEMENT); // a continuation byte, C0, C1 or F5..FF: never valid here
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> need);
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                if (j == end) {
                    // the character continues in a later feed
                    pendingLength = end - i;
                    System.arraycopy(buf, i, pending, 0, pendingLength);
                    return sb.toString();
                }
                int b = buf[j] & 0xFF;
                int min = k == 0 ? lo : 0x80;
                int max = k == 0 ? hi : 0xBF;
                if (b < min || b > max) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (b & 0x3F);
            }
            if (ok) {
                sb.appendCodePoint(cp);
            } else {
                sb.append(REPLACEMENT); // the valid prefix so far; the offending byte starts over
            }
            i = j;
        }
        return sb.toString();
    }

    /** Ends the stream: returns U+FFFD if a character was left incomplete, else the empty string. */
    public String flush() {
        if (pendingLength == 0) {
            return "";
        }
        pendingLength = 0;
        return String.valueOf(REPLACEMENT);
    }

    /** Whether bytes of an incomplete character are being held back. */
    public boolean hasPending() {
        return pendingLength > 0;
    }
}
