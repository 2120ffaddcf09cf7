package dev.gale.model.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What SentencePiece and BPE tokenizers share: special-token splitting, BOS/EOS, decoding and the token table.
 * Subclasses turn plain text fragments into ids and normal tokens back into bytes.
 */
abstract sealed class BaseTokenizer implements Tokenizer permits SentencePieceTokenizer, BpeTokenizer {
    private static final byte[] NO_BYTES = new byte[0];

    final Vocab vocab;

    BaseTokenizer(Vocab vocab) {
        this.vocab = vocab;
    }

    /**
     * Appends the ids of {@code text[from, to)}, a non-empty stretch of text without special tokens.
     *
     * @param afterSpecial whether the fragment starts the text or follows a special token
     */
    abstract void encodeText(String text, int from, int to, boolean afterSpecial, IntList out);

    /** The bytes of a token of type NORMAL. */
    abstract byte[] normalBytes(int id);

    /** The bytes of a token of type BYTE. */
    abstract byte[] byteTokenBytes(int id);

    @Override
    public final int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        Objects.requireNonNull(text, "text");
        IntList out = new IntList(text.length() / 3 + 4);
        if (addSpecial && vocab.addBos && vocab.bos >= 0) {
            out.add(vocab.bos);
        }
        if (!text.isEmpty()) {
            boolean afterSpecial = true;
            List<Fragment> fragments = partition(text, parseSpecial);
            for (Fragment f : fragments) {
                if (f.token >= 0) {
                    out.add(f.token);
                    afterSpecial = true;
                } else {
                    encodeText(text, f.start, f.end, afterSpecial, out);
                    afterSpecial = false;
                }
            }
        }
        if (addSpecial && vocab.addEos && vocab.eos >= 0) {
            out.add(vocab.eos);
        }
        return out.toArray();
    }

    /** A special token, or (token = -1) a stretch {@code [start, end)} of the text. */
    private record Fragment(int token, int start, int end) {
    }

    /**
     * Splits the text at special tokens as llama.cpp's {@code tokenizer_st_partition} does: one special token at a
     * time, longest first, each splitting every text fragment left by the ones before at all its occurrences.
     * User-defined tokens are always matched; control and unknown tokens only when {@code parseSpecial} is true.
     */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        fragments.add(new Fragment(-1, 0, text.length()));
        for (int id : vocab.specials) {
            byte type = vocab.types[id];
            if (!parseSpecial && type != Vocab.USER_DEFINED) {
                continue;
            }
            String special = vocab.pieces[id];
            if (!text.contains(special)) {
                continue;
            }
            boolean lstrip = (vocab.strip[id] & Vocab.LSTRIP) != 0;
            boolean rstrip = (vocab.strip[id] & Vocab.RSTRIP) != 0;
            List<Fragment> next = new ArrayList<>(fragments.size() + 8);
            for (Fragment f : fragments) {
                if (f.token >= 0) {
                    next.add(f);
                    continue;
                }
                int start = f.start;
                int end = f.end;
                while (start < end) {
                    int match = text.indexOf(special, start);
                    if (match < 0 || match + special.length() > end) {
                        next.add(new Fragment(-1, start, end));
                        break;
                    }
                    int leftEnd = match;
                    if (lstrip) {
                        while (leftEnd > start && isCSpace(text.charAt(leftEnd - 1))) {
                            leftEnd--;
                        }
                    }
                    if (leftEnd > start) {
                        next.add(new Fragment(-1, start, leftEnd));
                    }
                    next.add(new Fragment(id, 0, 0));
                    start = match + special.length();
                    if (rstrip) {
                        while (start < end && isCSpace(text.charAt(start))) {
                            start++;
                        }
                    }
                }
            }
            fragments = next;
        }
        return fragments;
    }

    /** C's isspace in the "C" locale, which llama.cpp uses for stripping around special tokens. */
    private static boolean isCSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    @Override
    public final byte[] tokenBytes(int id, boolean special) {
        checkId(id);
        return switch (vocab.types[id]) {
            case Vocab.NORMAL -> normalBytes(id);
            case Vocab.BYTE -> byteTokenBytes(id);
            case Vocab.USER_DEFINED -> Utf8.encode(vocab.pieces[id]);
            case Vocab.CONTROL, Vocab.UNKNOWN -> special ? Utf8.encode(vocab.pieces[id]) : NO_BYTES;
            default -> NO_BYTES; // unused and undefined tokens print nothing, as in llama.cpp
        };
    }

    static byte[] noBytes() {
        return NO_BYTES;
    }

    @Override
    public final String piece(int id) {
        checkId(id);
        return vocab.pieces[id];
    }

    @Override
    public final String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            bytes.writeBytes(tokenBytes(id, false));
        }
        // the stream decoder's replacement rules, so decoding at once and streaming always agree
        Utf8StreamDecoder decoder = new Utf8StreamDecoder();
        return decoder.feed(bytes.toByteArray()) + decoder.flush();
    }

    @Override
    public final int vocabSize() {
        return vocab.size();
    }

    @Override
    public final int bosId() {
        return vocab.bos;
    }

    @Override
    public final int eosId() {
        return vocab.eos;
    }

    @Override
    public final boolean addBos() {
        return vocab.addBos && vocab.bos >= 0;
    }

    /** Whether encode(addSpecial = true) appends EOS. */
    public final boolean addEos() {
        return vocab.addEos && vocab.eos >= 0;
    }

    @Override
    public final Set<Integer> endOfGenerationIds() {
        return vocab.endOfGeneration;
    }

    @Override
    public final boolean isControl(int id) {
        checkId(id);
        return vocab.types[id] == Vocab.CONTROL;
    }

    @Override
    public final int tokenId(String piece) {
        return vocab.index.get(piece);
    }

    final void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab.size() + ")");
        }
    }
}
