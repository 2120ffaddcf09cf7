package dev.gale.model.tokenizer;

import dev.gale.model.config.UnsupportedModelException;
import dev.gale.model.gguf.GgufMetadata;
import java.io.ByteArrayOutputStream;
import java.nio.CharBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The byte-level BPE tokenizer of {@code tokenizer.ggml.model = "gpt2"} vocabularies (GPT-2, Llama 3, Qwen2, ...),
 * following llama.cpp: the text is split into words by the expression of {@code tokenizer.ggml.pre}, each word's UTF-8
 * bytes are mapped to characters with GPT-2's byte-to-unicode table, and adjacent symbols are merged by the rank of
 * their pair in {@code tokenizer.ggml.merges}, lowest rank first (ties: leftmost). With Llama 3's pre-tokenizer a
 * word that is itself a token is emitted as is, without merging (Hugging Face's {@code ignore_merges}).
 *
 * <p>Symbols are ids: the vocabulary's, or extra ids beyond it for merge parts that are not tokens. Merges are kept in
 * a hash table keyed by the pair of ids packed into a long.
 */
public final class BpeTokenizer extends BaseTokenizer {
    private static final Logger LOG = LoggerFactory.getLogger(BpeTokenizer.class);

    /** How words are split, by llama.cpp's pre-tokenizer type. */
    private enum PreKind {
        /** Llama 3: its expression, whole-word lookup before merging, BOS by default. */
        LLAMA3(true, PreTokenizer.LLAMA3),
        /** Llama 3's expression alone (DBRX, Smaug). */
        LLAMA3_EXPRESSION(false, PreTokenizer.LLAMA3),
        QWEN2(false, PreTokenizer.QWEN2),
        GPT2(false, PreTokenizer.GPT2),
        DEFAULT(false, PreTokenizer.DEFAULT);

        final boolean llama3;
        final String[] expressions;

        PreKind(boolean llama3, String... expressions) {
            this.llama3 = llama3;
            this.expressions = expressions;
        }
    }

    /** The {@code tokenizer.ggml.pre} values understood, as in llama.cpp. */
    private static final Map<String, PreKind> PRE_KINDS = preKinds();

    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;
    private final MergeTable merges;
    /** The symbol id of each mapped byte character (a vocabulary id, an extra id or -1). */
    private final int[] charSymbols = new int[ByteLevel.CHAR_LIMIT];
    /** The id of each one-character ASCII token, or -1 (llama.cpp's fallback for symbols that are no token). */
    private final int[] asciiTokens = new int[0x80];

    private static Map<String, PreKind> preKinds() {
        Map<String, PreKind> m = new HashMap<>();
        for (String p : new String[] {"llama3", "llama-v3", "llama-bpe", "falcon3"}) {
            m.put(p, PreKind.LLAMA3);
        }
        for (String p : new String[] {"dbrx", "smaug-bpe"}) {
            m.put(p, PreKind.LLAMA3_EXPRESSION);
        }
        for (String p : new String[] {"qwen2", "deepseek-r1-qwen", "megrez", "stablelm2"}) {
            m.put(p, PreKind.QWEN2);
        }
        for (String p : new String[] {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
            "jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais"}) {
            m.put(p, PreKind.GPT2);
        }
        m.put("default", PreKind.DEFAULT);
        return Map.copyOf(m);
    }

    /** The supported {@code tokenizer.ggml.pre} values, sorted, for error messages. */
    public static String supportedPreTokenizers() {
        return String.join(", ", new TreeSet<>(PRE_KINDS.keySet()));
    }

    private BpeTokenizer(Vocab vocab, PreTokenizer preTokenizer, boolean ignoreMerges, String[] mergeLines) {
        super(vocab);
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;

        int n = vocab.size();
        Map<String, Integer> extra = new HashMap<>();
        merges = new MergeTable(mergeLines.length);
        for (int rank = 0; rank < mergeLines.length; rank++) {
            String line = mergeLines[rank];
            int space = line.indexOf(' ', 1);
            if (space < 0) {
                continue;
            }
            int end = line.length();
            int left = vocab.index.get(line, 0, space);
            if (left < 0) {
                left = extraId(line.substring(0, space), extra, n);
            }
            int right = vocab.index.get(line, space + 1, end);
            if (right < 0) {
                right = extraId(line.substring(space + 1), extra, n);
            }
            int slot = merges.insert(left, right, rank);
            if (slot < 0) {
                continue; // a repeated merge keeps its first rank
            }
            int merged = vocab.index.get(line, 0, space, space + 1, end);
            if (merged < 0) {
                merged = extraId(line.substring(0, space) + line.substring(space + 1), extra, n);
            }
            merges.setResult(slot, merged);
        }
        for (int c = 0; c < ByteLevel.CHAR_LIMIT; c++) {
            String s = String.valueOf((char) c);
            int id = vocab.index.get(s);
            if (id < 0) {
                id = extra.getOrDefault(s, -1);
            }
            charSymbols[c] = ByteLevel.toByte((char) c) < 0 ? -1 : id;
        }
        for (int c = 0; c < 0x80; c++) {
            asciiTokens[c] = vocab.index.get(String.valueOf((char) c));
        }
        if (!extra.isEmpty()) {
            LOG.debug("{} merge parts are not tokens", extra.size());
        }
    }

    /** An id beyond the vocabulary for a merge part that is not a token. */
    private static int extraId(String s, Map<String, Integer> extra, int n) {
        return extra.computeIfAbsent(s, k -> n + extra.size());
    }

    /** Builds the tokenizer from a GGUF file's {@code tokenizer.ggml.*} keys. */
    public static BpeTokenizer fromGguf(GgufMetadata md) {
        String pre = md.getString(Vocab.KEY_PRE, "");
        PreKind kind;
        if (pre.isEmpty()) {
            LOG.warn("{} is missing; using llama.cpp's 'default' pre-tokenizer, which may tokenize poorly", Vocab.KEY_PRE);
            pre = "default";
            kind = PreKind.DEFAULT;
        } else {
            kind = PRE_KINDS.get(pre);
            if (kind == null) {
                throw new UnsupportedModelException(Vocab.KEY_PRE + " '" + pre + "' is not supported (supported: "
                        + supportedPreTokenizers() + ")");
            }
        }
        PreTokenizer preTokenizer = new PreTokenizer(pre, kind.expressions);
        if (!md.contains(Vocab.KEY_MERGES)) {
            throw new UnsupportedModelException("a gpt2 (BPE) tokenizer needs " + Vocab.KEY_MERGES
                    + ", which the file does not have");
        }
        // BOS is added by default only for Llama 3; without the id keys there is no BOS/EOS (llama.cpp assumes 11)
        Vocab vocab = new Vocab(md, new Vocab.Defaults(-1, -1, -1, kind.llama3, false));
        return new BpeTokenizer(vocab, preTokenizer, kind.llama3, md.getStringArray(Vocab.KEY_MERGES));
    }

    /** The {@code tokenizer.ggml.pre} value this tokenizer splits words by. */
    public String preTokenizer() {
        return preTokenizer.name();
    }

    /** Number of distinct merges. */
    public int mergeCount() {
        return merges.size();
    }

    @Override
    void encodeText(String text, int from, int to, boolean afterSpecial, IntList out) {
        IntList words = preTokenizer.split(text, from, to);
        Scratch scratch = null;
        for (int i = 0; i < words.size(); i += 2) {
            char[] word = ByteLevel.encode(text, words.get(i), words.get(i + 1));
            if (word.length == 0) {
                continue;
            }
            if (ignoreMerges || word.length == 1) {
                int id = vocab.index.get(CharBuffer.wrap(word), 0, word.length);
                if (id >= 0) {
                    out.add(id);
                    continue;
                }
            }
            if (scratch == null) {
                scratch = new Scratch(word.length);
            }
            mergeWord(word, scratch, out);
        }
    }

    /** Work arrays reused across the words of one call. */
    private static final class Scratch {
        int[] ids;
        int[] len;
        int[] prev;
        int[] next;
        final LongMinHeap heap = new LongMinHeap(64);

        Scratch(int n) {
            grow(n);
        }

        void grow(int n) {
            int cap = Math.max(16, n);
            ids = new int[cap];
            len = new int[cap];
            prev = new int[cap];
            next = new int[cap];
        }
    }

    private void mergeWord(char[] word, Scratch s, IntList out) {
        int n = word.length;
        if (s.ids.length < n) {
            s.grow(n);
        }
        int[] ids = s.ids;
        int[] len = s.len;
        int[] prev = s.prev;
        int[] next = s.next;
        LongMinHeap heap = s.heap;
        heap.clear();
        for (int k = 0; k < n; k++) {
            ids[k] = charSymbols[word[k]];
            len[k] = 1;
            prev[k] = k - 1;
            next[k] = k + 1 < n ? k + 1 : -1;
        }
        for (int k = 1; k < n; k++) {
            queuePair(ids, k - 1, k, heap);
        }
        while (!heap.isEmpty()) {
            long entry = heap.pop();
            int left = (int) entry;
            int rank = (int) (entry >>> 32);
            int right = next[left];
            if (len[left] == 0 || right < 0) {
                continue;
            }
            // The pair is current iff the two symbols still form this merge: a rank names one pair of texts, and
            // symbols only grow, so equal texts at the same start mean neither symbol has changed.
            int slot = merges.find(ids[left], ids[right]);
            if (slot < 0 || merges.rank(slot) != rank) {
                continue;
            }
            ids[left] = merges.result(slot);
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[left] >= 0) {
                prev[next[left]] = left;
            }
            queuePair(ids, prev[left], left, heap);
            queuePair(ids, left, next[left], heap);
        }
        int vocabSize = vocab.size();
        for (int k = 0; k >= 0; k = next[k]) {
            int id = ids[k];
            if (id >= 0 && id < vocabSize) {
                out.add(id);
            } else {
                // not a token: llama.cpp emits whatever single bytes of the symbol's text are tokens
                for (int j = k; j < k + len[k]; j++) {
                    char c = word[j];
                    if (c < 0x80 && asciiTokens[c] >= 0) {
                        out.add(asciiTokens[c]);
                    }
                }
            }
        }
    }

    private void queuePair(int[] ids, int left, int right, LongMinHeap heap) {
        if (left < 0 || right < 0) {
            return;
        }
        int slot = merges.find(ids[left], ids[right]);
        if (slot >= 0) {
            heap.push(((long) merges.rank(slot) << 32) | left);
        }
    }

    @Override
    byte[] normalBytes(int id) {
        String p = vocab.pieces[id];
        byte[] out = new byte[p.length()];
        int n = 0;
        for (int i = 0; i < p.length(); i++) {
            int b = ByteLevel.toByte(p.charAt(i));
            if (b < 0) {
                // not a byte-level character: keep the text as it is
                return normalBytesSlow(p);
            }
            out[n++] = (byte) b;
        }
        return out;
    }

    private static byte[] normalBytesSlow(String p) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(p.length() * 2);
        for (int i = 0; i < p.length(); ) {
            int cp = Utf8.codePointAt(p, i, p.length());
            int len = Character.charCount(cp);
            int b = len == 1 ? ByteLevel.toByte(p.charAt(i)) : -1;
            if (b >= 0) {
                bytes.write(b);
            } else {
                bytes.writeBytes(Utf8.encode(p, i, i + len));
            }
            i += len;
        }
        return bytes.toByteArray();
    }

    @Override
    byte[] byteTokenBytes(int id) {
        return noBytes(); // llama.cpp prints nothing for byte-type tokens of BPE vocabularies
    }
}
