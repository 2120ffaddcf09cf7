package dev.gale.model.tokenizer;

import dev.gale.model.gguf.GgufMetadata;
import java.util.PriorityQueue;

/**
 * The SentencePiece-style tokenizer of {@code tokenizer.ggml.model = "llama"} vocabularies (Llama 1/2, Phi-3,
 * TinyLlama-style stories models), following llama.cpp's SPM tokenizer: spaces become {@code ▁}, a {@code ▁} is
 * prepended to text at the start and after each special token ({@code tokenizer.ggml.add_space_prefix}, default
 * true), then adjacent pieces are merged greedily by the score of the token they form, highest first (ties: leftmost).
 * Characters that end up in no token are written as byte tokens {@code <0xNN>}, or the unknown token without them.
 */
public final class SentencePieceTokenizer extends BaseTokenizer {
    private static final char SPACE_MARK = '\u2581';

    private final boolean addSpacePrefix;
    /** The token for each byte value: {@code <0xNN>}, else the one-character ASCII token, else unk (or -1). */
    private final int[] byteTokens = new int[256];

    private SentencePieceTokenizer(Vocab vocab, boolean addSpacePrefix) {
        super(vocab);
        this.addSpacePrefix = addSpacePrefix;
        for (int b = 0; b < 256; b++) {
            int id = vocab.index.get(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) {
                id = vocab.index.get(String.valueOf((char) b)); // a token holding just this byte
            }
            byteTokens[b] = id >= 0 ? id : vocab.unk;
        }
    }

    /** Builds the tokenizer from a GGUF file's {@code tokenizer.ggml.*} keys. */
    public static SentencePieceTokenizer fromGguf(GgufMetadata md) {
        Vocab vocab = new Vocab(md, new Vocab.Defaults(1, 2, 0, true, false));
        return new SentencePieceTokenizer(vocab, md.getBoolean(Vocab.KEY_ADD_SPACE_PREFIX, true));
    }

    /** Whether a {@code ▁} is prepended to the text and after each special token. */
    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    private record Bigram(int left, int right, float score, int size) {
    }

    private static int compare(Bigram a, Bigram b) {
        int c = Float.compare(b.score, a.score); // higher score first
        return c != 0 ? c : Integer.compare(a.left, b.left);
    }

    @Override
    void encodeText(String text, int from, int to, boolean afterSpecial, IntList out) {
        StringBuilder sb = new StringBuilder(to - from + 1);
        if (addSpacePrefix && afterSpecial) {
            sb.append(SPACE_MARK);
        }
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            sb.append(c == ' ' ? SPACE_MARK : c);
        }
        String s = sb.toString();
        int n = s.length();
        if (n == 0) {
            return;
        }

        // one symbol per code point; symbol k starts at start[k] and covers len[k] chars (0 once merged away)
        int[] start = new int[n];
        int[] len = new int[n];
        int count = 0;
        for (int i = 0; i < n; ) {
            int cl = Character.isHighSurrogate(s.charAt(i)) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))
                    ? 2 : 1;
            start[count] = i;
            len[count] = cl;
            count++;
            i += cl;
        }
        int[] prev = new int[count];
        int[] next = new int[count];
        for (int k = 0; k < count; k++) {
            prev[k] = k - 1;
            next[k] = k + 1 < count ? k + 1 : -1;
        }

        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, count), SentencePieceTokenizer::compare);
        for (int k = 1; k < count; k++) {
            tryAddBigram(s, start, len, k - 1, k, queue);
        }
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left;
            int r = b.right;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != b.size) {
                continue; // one side has changed since this pair was queued
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            tryAddBigram(s, start, len, prev[l], l, queue);
            tryAddBigram(s, start, len, l, next[l], queue);
        }

        // every merged symbol is a token; single characters may not be, and fall back to bytes
        for (int k = 0; k >= 0; k = next[k]) {
            int id = vocab.index.get(s, start[k], start[k] + len[k]);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : Utf8.encode(s, start[k], start[k] + len[k])) {
                    int t = byteTokens[b & 0xFF];
                    if (t >= 0) {
                        out.add(t);
                    }
                }
            }
        }
    }

    private void tryAddBigram(String s, int[] start, int[] len, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) {
            return;
        }
        int size = len[left] + len[right];
        int id = vocab.index.get(s, start[left], start[left] + size);
        if (id >= 0) {
            queue.add(new Bigram(left, right, vocab.scores[id], size));
        }
    }

    @Override
    byte[] normalBytes(int id) {
        return Utf8.encode(vocab.pieces[id].replace(SPACE_MARK, ' '));
    }

    @Override
    byte[] byteTokenBytes(int id) {
        String p = vocab.pieces[id];
        if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
            int hi = Character.digit(p.charAt(3), 16);
            int lo = Character.digit(p.charAt(4), 16);
            if (hi >= 0 && lo >= 0) {
                return new byte[] {(byte) (hi << 4 | lo)};
            }
        }
        return Utf8.encode(p);
    }
}
