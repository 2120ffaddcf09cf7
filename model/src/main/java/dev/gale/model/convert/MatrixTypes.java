package dev.gale.model.convert;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Quantizer;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The type each matrix of a written model takes: one type for all ({@link #uniform}), or a mix named after
 * llama-quantize's: {@code Q4_K_M} or {@code Q5_K_M}.
 *
 * <p>The mixes follow llama.cpp's choice for those file types (its general rules; not its special cases for
 * mixture-of-experts, Falcon or models with very many key/value groups): Q4_K (Q5_K) everywhere except Q6_K for the
 * output projection (the token embedding where the two are tied), and for {@code attn_v} and {@code ffn_down} in the
 * layers that get more bits: the first and the last eighth of the layers and every third layer between them.
 */
public final class MatrixTypes {
    /** llama-quantize's Q4_K_M: Q4_K, with Q6_K where that mix puts it. */
    public static final MatrixTypes Q4_K_M = new MatrixTypes("Q4_K_M", GgmlType.Q4_K, true, true);
    /** llama-quantize's Q5_K_M: Q5_K, with Q6_K where that mix puts it. */
    public static final MatrixTypes Q5_K_M = new MatrixTypes("Q5_K_M", GgmlType.Q5_K, true, true);

    private final String name;
    private final GgmlType main;
    /** Whether the output projection is Q6_K. */
    private final boolean q6_KOutput;
    /** Whether attn_v and ffn_down of the layers that get more bits are Q6_K. */
    private final boolean moreBits;

    private MatrixTypes(String name, GgmlType main, boolean q6_KOutput, boolean moreBits) {
        this.name = name;
        this.main = main;
        this.q6_KOutput = q6_KOutput;
        this.moreBits = moreBits;
    }

    /** Every matrix in {@code type}. */
    public static MatrixTypes uniform(GgmlType type) {
        return new MatrixTypes(type.name(), type, false, false);
    }

    /**
     * These types as llama-quantize writes them: one of the 4- and 5-bit types Q4_0, Q4_K or Q5_K, with its output
     * projection in Q6_K; any other type or mix as it is.
     */
    public MatrixTypes withQuantizeOutput() {
        boolean lowBits = main == GgmlType.Q4_0 || main == GgmlType.Q4_K || main == GgmlType.Q5_K;
        return lowBits && !q6_KOutput ? new MatrixTypes(name, main, true, moreBits) : this;
    }

    /**
     * A type the quantizer writes ({@link Quantizer#canQuantize}) or a mix ({@code Q4_K_M}, {@code Q5_K_M}),
     * case-insensitively.
     *
     * @throws IllegalArgumentException naming the supported ones
     */
    public static MatrixTypes parse(String name) {
        String upper = name.trim().toUpperCase(Locale.ROOT);
        if (upper.equals(Q4_K_M.name)) {
            return Q4_K_M;
        }
        if (upper.equals(Q5_K_M.name)) {
            return Q5_K_M;
        }
        try {
            GgmlType t = GgmlType.valueOf(upper);
            if (Quantizer.canQuantize(t)) {
                return uniform(t);
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        String known = Arrays.stream(GgmlType.values()).filter(Quantizer::canQuantize).map(Enum::name)
                .collect(Collectors.joining(", "));
        throw new IllegalArgumentException("type " + name + " is not supported (supported: " + known
                + ", Q4_K_M, Q5_K_M)");
    }

    /** "Q4_K_M", "Q5_K_M", or the uniform type's name. */
    public String name() {
        return name;
    }

    /** The type of most matrices (the file's {@code general.file_type} names the mix). */
    public GgmlType main() {
        return main;
    }

    /** llama_ftype of the file. */
    int fileType() {
        if (moreBits) {
            return main == GgmlType.Q4_K ? 15 : 17; // LLAMA_FTYPE_MOSTLY_Q4_K_M, _Q5_K_M
        }
        return FileType.of(main);
    }

    /**
     * The type of the matrix {@code tensor} (a GGUF tensor name such as {@code blk.3.attn_v.weight}) of a model of
     * {@code layers} layers, whose token embedding is also its output projection if {@code tiedEmbeddings}.
     */
    public GgmlType of(String tensor, int layers, boolean tiedEmbeddings) {
        if (q6_KOutput && (tensor.equals("output.weight") || tiedEmbeddings && tensor.equals("token_embd.weight"))) {
            return GgmlType.Q6_K;
        }
        if (moreBits && tensor.startsWith("blk.") && (tensor.endsWith(".attn_v.weight") || tensor.endsWith(".ffn_down.weight"))) {
            int layer = Integer.parseInt(tensor.substring(4, tensor.indexOf('.', 4)));
            if (moreBits(layer, layers)) {
                return GgmlType.Q6_K;
            }
        }
        return main;
    }

    /** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer between. */
    static boolean moreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    @Override
    public String toString() {
        return name;
    }
}
