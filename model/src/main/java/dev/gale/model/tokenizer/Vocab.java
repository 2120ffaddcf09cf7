package dev.gale.model.tokenizer;

import dev.gale.model.config.UnsupportedModelException;
import dev.gale.model.gguf.GgufMetadata;
import java.util.Arrays;
import java.util.Collections;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The token table shared by all tokenizer kinds: texts, scores, types, special ids and flags, read from the
 * {@code tokenizer.ggml.*} keys with llama.cpp's defaults and fix-ups (see {@code llama_vocab::impl::load}).
 */
final class Vocab {
    private static final Logger LOG = LoggerFactory.getLogger(Vocab.class);

    static final String KEY_MODEL = "tokenizer.ggml.model";
    static final String KEY_PRE = "tokenizer.ggml.pre";
    static final String KEY_TOKENS = "tokenizer.ggml.tokens";
    static final String KEY_SCORES = "tokenizer.ggml.scores";
    static final String KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String KEY_MERGES = "tokenizer.ggml.merges";
    static final String KEY_ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String KEY_ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String KEY_ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";

    // tokenizer.ggml.token_type values (llama.cpp's llama_token_type)
    static final byte UNDEFINED = 0;
    static final byte NORMAL = 1;
    static final byte UNKNOWN = 2;
    static final byte CONTROL = 3;
    static final byte USER_DEFINED = 4;
    static final byte UNUSED = 5;
    static final byte BYTE = 6;

    /** Strip flags of special tokens: whitespace left of / right of a match is dropped. */
    static final byte LSTRIP = 1;
    static final byte RSTRIP = 2;

    /** Texts that mark the end of a turn; such tokens end generation and are treated as control tokens. */
    static final Set<String> END_OF_GENERATION_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>");

    private static final String[] EOT_TEXTS = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"};
    private static final String[] EOM_TEXTS = {"<|eom_id|>"};
    private static final String[] FIM_PRE_TEXTS = {"<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>"};
    private static final String[] FIM_SUF_TEXTS = {"<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>"};
    private static final String[] FIM_MID_TEXTS = {"<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>"};
    private static final String[] FIM_PAD_TEXTS = {"<|fim_pad|>", "<fim-pad>", "<PAD>"};
    private static final String[] FIM_REP_TEXTS = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"};
    private static final String[] FIM_SEP_TEXTS = {"<|file_sep|>"};

    /** Defaults that depend on the tokenizer kind (llama.cpp's per-model defaults). */
    record Defaults(int bos, int eos, int unk, boolean addBos, boolean addEos) {
    }

    final String[] pieces;
    final float[] scores;
    final byte[] types;
    /** Per-token {@link #LSTRIP}/{@link #RSTRIP} flags. */
    final byte[] strip;
    final TokenIndex index;
    final int bos;
    final int eos;
    final int unk;
    final int eot;
    final int eom;
    final boolean addBos;
    final boolean addEos;
    /** Control, user-defined and unknown tokens, longest text (in UTF-8 bytes) first, then by id. */
    final int[] specials;
    final Set<Integer> endOfGeneration;

    Vocab(GgufMetadata md, Defaults defaults) {
        String[] tokens = md.getStringArray(KEY_TOKENS);
        int n = tokens.length;
        if (n == 0) {
            throw new UnsupportedModelException(KEY_TOKENS + " is empty");
        }
        pieces = new String[n];
        for (int i = 0; i < n; i++) {
            // as llama.cpp: an empty text could never be matched or merged
            pieces[i] = tokens[i].isEmpty() ? "[EMPTY_" + i + "]" : tokens[i];
        }
        index = new TokenIndex(pieces);
        if (md.contains(KEY_SCORES)) {
            scores = md.getFloatArray(KEY_SCORES);
            checkLength(KEY_SCORES, scores.length, n);
        } else {
            scores = new float[n];
        }
        types = new byte[n];
        if (md.contains(KEY_TOKEN_TYPE)) {
            int[] t = md.getIntArray(KEY_TOKEN_TYPE);
            checkLength(KEY_TOKEN_TYPE, t.length, n);
            for (int i = 0; i < n; i++) {
                types[i] = t[i] >= NORMAL && t[i] <= BYTE ? (byte) t[i] : UNDEFINED;
            }
        } else {
            Arrays.fill(types, NORMAL);
        }

        bos = readId(md, "tokenizer.ggml.bos_token_id", defaults.bos(), n);
        eos = readId(md, "tokenizer.ggml.eos_token_id", defaults.eos(), n);
        unk = readId(md, "tokenizer.ggml.unknown_token_id", defaults.unk(), n);
        addBos = md.getBoolean(KEY_ADD_BOS, defaults.addBos());
        addEos = md.getBoolean(KEY_ADD_EOS, defaults.addEos());

        // llama.cpp finds these by text when the file does not name them, and makes them control tokens.
        eot = idOrDetect(md, "tokenizer.ggml.eot_token_id", EOT_TEXTS, n);
        eom = idOrDetect(md, "tokenizer.ggml.eom_token_id", EOM_TEXTS, n);
        idOrDetect(md, "tokenizer.ggml.fim_pre_token_id", FIM_PRE_TEXTS, n);
        idOrDetect(md, "tokenizer.ggml.fim_suf_token_id", FIM_SUF_TEXTS, n);
        idOrDetect(md, "tokenizer.ggml.fim_mid_token_id", FIM_MID_TEXTS, n);
        int fimPad = idOrDetect(md, "tokenizer.ggml.fim_pad_token_id", FIM_PAD_TEXTS, n);
        int fimRep = idOrDetect(md, "tokenizer.ggml.fim_rep_token_id", FIM_REP_TEXTS, n);
        int fimSep = idOrDetect(md, "tokenizer.ggml.fim_sep_token_id", FIM_SEP_TEXTS, n);

        TreeSet<Integer> eog = new TreeSet<>();
        for (int id : new int[] {fimPad, fimRep, fimSep, eos, eot, eom}) {
            if (id >= 0) {
                eog.add(id);
            }
        }
        for (String text : END_OF_GENERATION_TEXTS) {
            int id = index.get(text);
            if (id >= 0) {
                eog.add(id);
                makeControl(id);
            }
        }
        endOfGeneration = Collections.unmodifiableSet(eog);

        int count = 0;
        for (byte t : types) {
            if (isSpecialType(t)) {
                count++;
            }
        }
        Integer[] sp = new Integer[count];
        int[] byteLength = new int[n];
        count = 0;
        for (int i = 0; i < n; i++) {
            if (isSpecialType(types[i])) {
                sp[count++] = i;
                byteLength[i] = Utf8.length(pieces[i], 0, pieces[i].length());
            }
        }
        Arrays.sort(sp, (a, b) -> byteLength[a] != byteLength[b] ? Integer.compare(byteLength[b], byteLength[a])
                : Integer.compare(a, b));
        specials = new int[count];
        for (int i = 0; i < count; i++) {
            specials[i] = sp[i];
        }

        strip = new byte[n];
        applyStripQuirks(md);
    }

    private static boolean isSpecialType(byte t) {
        return t == CONTROL || t == USER_DEFINED || t == UNKNOWN;
    }

    private static void checkLength(String key, int length, int n) {
        if (length != n) {
            throw new UnsupportedModelException(key + " has " + length + " entries but " + KEY_TOKENS + " has " + n);
        }
    }

    private static int readId(GgufMetadata md, String key, int defaultId, int n) {
        int fallback = defaultId >= 0 && defaultId < n ? defaultId : -1;
        if (!md.contains(key)) {
            return fallback;
        }
        long v = md.getLong(key);
        if (v < 0 || v >= n) {
            LOG.warn("{} = {} is not a token id (vocabulary of {}); using {}", key, v, n, fallback);
            return fallback;
        }
        return (int) v;
    }

    private int idOrDetect(GgufMetadata md, String key, String[] texts, int n) {
        int id = readId(md, key, -1, n);
        if (id >= 0) {
            return id;
        }
        for (String text : texts) {
            int found = index.get(text);
            if (found >= 0) {
                makeControl(found);
                return found;
            }
        }
        return -1;
    }

    private void makeControl(int id) {
        if (types[id] != CONTROL) {
            LOG.debug("token {} '{}' looks like a control token but has type {}; treating it as control",
                    id, pieces[id], types[id]);
            types[id] = CONTROL;
        }
    }

    /** llama.cpp's per-model token attributes (not stored in GGUF files). */
    private void applyStripQuirks(GgufMetadata md) {
        String name = md.getString("general.name", "").toLowerCase(Locale.ROOT);
        String pre = md.getString(KEY_PRE, "");
        if (pre.contains("jina-v2-de") || pre.contains("jina-v2-es") || pre.contains("jina-v2-code")) {
            setStrip("<mask>", LSTRIP, true);
        } else if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id : specials) {
                strip[id] |= RSTRIP;
            }
            setStrip("</s>", RSTRIP, true);
            for (String t : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
                setStrip(t, RSTRIP, false);
            }
        }
    }

    private void setStrip(String text, byte flag, boolean on) {
        int id = index.get(text);
        if (id >= 0) {
            strip[id] = (byte) (on ? strip[id] | flag : strip[id] & ~flag);
        }
    }

    int size() {
        return pieces.length;
    }
}
