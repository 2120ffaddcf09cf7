package dev.gale.model.convert;

import dev.gale.model.gguf.GgmlType;

/** llama.cpp's {@code general.file_type} codes, and which type a matrix of a given row length can be stored in. */
final class FileType {
    /** ggml's GGML_QNT_VERSION, stored as {@code general.quantization_version} in quantized files. */
    static final int QUANTIZATION_VERSION = 2;

    private FileType() {}

    /** The llama_ftype of a file whose matrices are mostly {@code type}. */
    static int of(GgmlType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 14; // LLAMA_FTYPE_MOSTLY_Q4_K_S
            case Q5_K -> 16; // LLAMA_FTYPE_MOSTLY_Q5_K_S
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no file type for " + type);
        };
    }

    /**
     * {@code type}, or the closest type that holds rows of {@code cols} elements: Q8_0 when a row is not a whole
     * number of {@code type}'s blocks, F16 when not even of 32 (llama-quantize falls back similarly).
     */
    static GgmlType storable(GgmlType type, long cols) {
        if (cols % type.blockSize() == 0) {
            return type;
        }
        return cols % GgmlType.Q8_0.blockSize() == 0 ? GgmlType.Q8_0 : GgmlType.F16;
    }
}
