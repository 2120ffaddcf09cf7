package dev.gale.model.tensor;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reference dequantization of ggml tensor types: the plain, obviously-correct form of each block layout.
 * Backends compute on the packed blocks directly; this is used for embedding rows, small tensors and tests.
 */
public final class Dequantizer {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Dequantizer() {}

    /**
     * Dequantizes {@code n} elements starting at byte {@code byteOffset} of {@code data} (which must be the start of a
     * block) into {@code out[outOffset ..]}.
     */
    public static void dequantize(GgmlType type, MemorySegment data, long byteOffset, float[] out, int outOffset, int n) {
        switch (type) {
            case F32 -> MemorySegment.copy(data, F32, byteOffset, out, outOffset, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = Float.float16ToFloat(data.get(I16, byteOffset + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = Float16.bf16ToFloat(data.get(I16, byteOffset + 2L * i));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = byteOffset + 34L * b;
                    float d = Float.float16ToFloat(data.get(I16, p));
                    for (int j = 0; j < 32; j++) {
                        out[outOffset + 32 * b + j] = d * data.get(ValueLayout.JAVA_BYTE, p + 2 + j);
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = byteOffset + 18L * b;
                    float d = Float.float16ToFloat(data.get(I16, p));
                    for (int j = 0; j < 16; j++) {
                        int q = data.get(ValueLayout.JAVA_BYTE, p + 2 + j) & 0xFF;
                        out[outOffset + 32 * b + j] = d * ((q & 0x0F) - 8);
                        out[outOffset + 32 * b + j + 16] = d * ((q >>> 4) - 8);
                    }
                }
            }
            default -> KQuants.dequantize(type, data, byteOffset, out, outOffset, n);
        }
    }
}
