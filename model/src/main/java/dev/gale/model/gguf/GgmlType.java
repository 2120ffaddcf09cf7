package dev.gale.model.gguf;

/**
 * The tensor element types of the ggml family, with their GGUF ids and block layout.
 * Every type a GGUF file can name is listed so that files can be inspected; which types a backend
 * can compute with is a separate question ({@link #isSupportedForCompute()}).
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type with this GGUF id, or null if the id names no known type. */
    public static GgmlType fromId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Bytes taken by {@code elements} elements; elements must be a multiple of the block size. */
    public long byteSize(long elements) {
        return elements / blockSize * blockBytes;
    }

    /** True if Gale's backends can compute with weights of this type. */
    public boolean isSupportedForCompute() {
        return switch (this) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /** The types Gale can compute with, for error messages: "F32, F16, ...". */
    public static String supportedForCompute() {
        StringBuilder sb = new StringBuilder();
        for (GgmlType t : values()) {
            if (t.isSupportedForCompute()) {
                sb.append(sb.isEmpty() ? "" : ", ").append(t.name());
            }
        }
        return sb.toString();
    }

    /** Bits per weight, including the block scales. */
    public double bitsPerWeight() {
        return blockBytes * 8.0 / blockSize;
    }
}
