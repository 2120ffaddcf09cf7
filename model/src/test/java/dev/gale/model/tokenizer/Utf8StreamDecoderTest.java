package dev.gale.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class Utf8StreamDecoderTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void holdsBackSplitCharacters() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        byte[] e = utf8("é"); // C3 A9
        assertEquals("", d.feed(new byte[] {e[0]}));
        assertTrue(d.hasPending());
        assertEquals("é", d.feed(new byte[] {e[1]}));
        assertFalse(d.hasPending());

        byte[] smile = utf8("a😊b"); // 61 F0 9F 98 8A 62
        assertEquals("a", d.feed(Arrays.copyOfRange(smile, 0, 2)));
        assertEquals("", d.feed(Arrays.copyOfRange(smile, 2, 3)));
        assertEquals("", d.feed(Arrays.copyOfRange(smile, 3, 4)));
        assertEquals("😊b", d.feed(Arrays.copyOfRange(smile, 4, 6)));
        assertEquals("", d.flush());

        byte[] euro = utf8("€€"); // E2 82 AC E2 82 AC
        assertEquals("€", d.feed(Arrays.copyOfRange(euro, 0, 4)));
        assertEquals("€", d.feed(Arrays.copyOfRange(euro, 4, 6)));
    }

    @Test
    void flushReplacesAnIncompleteCharacter() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertEquals("x", d.feed(new byte[] {'x', (byte) 0xE2, (byte) 0x82}));
        assertEquals("\uFFFD", d.flush());
        assertEquals("", d.flush());
        assertFalse(d.hasPending());
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertEquals("\uFFFDa", d.feed(new byte[] {(byte) 0x80, 'a'}), "stray continuation byte");
        assertEquals("", d.feed(new byte[] {(byte) 0xC3}));
        assertEquals("\uFFFDb", d.feed(new byte[] {'b'}), "a lead byte without its continuation");
        assertEquals("\uFFFD\uFFFD", d.feed(new byte[] {(byte) 0xC0, (byte) 0xAF}), "overlong '/'");
        assertEquals("\uFFFD\uFFFD\uFFFD", d.feed(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}), "surrogate");
        assertEquals("", d.flush());
    }

    @Test
    void streamsTokenBytesOfARealVocabulary() {
        Tokenizer t = TestVocabs.tokenizer(TestVocabs.LLAMA_SPM);
        String text = "Cửa Việt 🦙 ជាន់";
        int[] ids = t.encode(text);
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String piece = d.feed(t.tokenBytes(id, false));
            assertFalse(piece.contains("\uFFFD"), "never prints half a character");
            out.append(piece);
        }
        out.append(d.flush());
        assertEquals(" " + text, out.toString());
    }

    /** Bytes weighted towards UTF-8 structure: ASCII, lead bytes, continuation bytes and invalid ones. */
    @Provide
    Arbitrary<byte[]> utf8ishBytes() {
        Arbitrary<Byte> b = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.bytes().between((byte) 0x20, (byte) 0x7E)),
                net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(0x80, 0xBF).map(i -> (byte) (int) i)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0xC0, 0xFF).map(i -> (byte) (int) i)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of((byte) 0xE0, (byte) 0xED, (byte) 0xF0, (byte) 0xF4)));
        Arbitrary<byte[]> valid = Arbitraries.strings().all().ofMaxLength(12).map(s -> utf8(s));
        Arbitrary<byte[]> mixed = b.list().ofMaxSize(24).map(list -> {
            byte[] a = new byte[list.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = list.get(i);
            }
            return a;
        });
        return Arbitraries.oneOf(valid, mixed);
    }

    @Property(tries = 2000)
    void feedingInPiecesEqualsTheStandardDecoding(@ForAll("utf8ishBytes") byte[] bytes,
            @ForAll List<@net.jqwik.api.constraints.IntRange(min = 0, max = 24) Integer> cuts) {
        int[] points = cuts.stream().mapToInt(c -> Math.min(c, bytes.length)).sorted().toArray();
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        StringBuilder out = new StringBuilder();
        int from = 0;
        for (int p : points) {
            out.append(d.feed(bytes, from, p - from));
            from = p;
        }
        out.append(d.feed(bytes, from, bytes.length - from));
        out.append(d.flush());
        assertEquals(whatwgDecode(bytes), out.toString(), () -> "bytes " + hex(bytes));
    }

    @Property(tries = 500)
    void wellFormedTextComesBackUnchanged(@ForAll String text) {
        String s = new String(utf8(text), StandardCharsets.UTF_8); // unpaired surrogates become '?'
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        StringBuilder out = new StringBuilder();
        for (byte b : utf8(s)) {
            out.append(d.feed(new byte[] {b}));
        }
        out.append(d.flush());
        assertEquals(s, out.toString());
    }

    @Test
    void javaDiffersOnlyOnSomeTruncatedSequences() {
        byte[] truncatedSurrogate = {(byte) 0xED, (byte) 0xA0};
        assertEquals("\uFFFD\uFFFD", whatwgDecode(truncatedSurrogate));
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertEquals("\uFFFD\uFFFD", d.feed(truncatedSurrogate) + d.flush());
    }

    /** The WHATWG Encoding Standard's UTF-8 decoder, written as its state machine, as the reference. */
    static String whatwgDecode(byte[] bytes) {
        StringBuilder out = new StringBuilder();
        int codePoint = 0;
        int needed = 0;
        int seen = 0;
        int lower = 0x80;
        int upper = 0xBF;
        int i = 0;
        while (i < bytes.length) {
            int b = bytes[i] & 0xFF;
            if (needed == 0) {
                i++;
                if (b <= 0x7F) {
                    out.append((char) b);
                } else if (b >= 0xC2 && b <= 0xDF) {
                    needed = 1;
                    codePoint = b & 0x1F;
                } else if (b >= 0xE0 && b <= 0xEF) {
                    if (b == 0xE0) {
                        lower = 0xA0;
                    }
                    if (b == 0xED) {
                        upper = 0x9F;
                    }
                    needed = 2;
                    codePoint = b & 0xF;
                } else if (b >= 0xF0 && b <= 0xF4) {
                    if (b == 0xF0) {
                        lower = 0x90;
                    }
                    if (b == 0xF4) {
                        upper = 0x8F;
                    }
                    needed = 3;
                    codePoint = b & 0x7;
                } else {
                    out.append('\uFFFD');
                }
                continue;
            }
            if (b < lower || b > upper) {
                codePoint = 0;
                needed = 0;
                seen = 0;
                lower = 0x80;
                upper = 0xBF;
                out.append('\uFFFD'); // the byte is read again
                continue;
            }
            i++;
            lower = 0x80;
            upper = 0xBF;
            codePoint = (codePoint << 6) | (b & 0x3F);
            seen++;
            if (seen == needed) {
                out.appendCodePoint(codePoint);
                codePoint = 0;
                needed = 0;
                seen = 0;
            }
        }
        if (needed != 0) {
            out.append('\uFFFD');
        }
        return out.toString();
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02X ", x));
        }
        return sb.toString();
    }
}
