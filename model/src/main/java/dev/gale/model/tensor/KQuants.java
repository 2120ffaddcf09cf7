package dev.gale.model.tensor;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reference dequantization of the k-quant formats: super-blocks of 256 elements with quantized sub-block scales.
 * The layouts (ggml's block_q4_K, block_q5_K, block_q6_K) are:
 * <ul>
 *   <li>Q4_K, 144 bytes: fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins for 8 sub-blocks of 32
 *       ({@link #scaleAndMin}), 128 bytes of 4-bit quants. Each 64 elements use 32 quant bytes: low nibbles are
 *       the first 32 elements, high nibbles the next 32. x = d·scale·q − dmin·min.</li>
 *   <li>Q5_K, 176 bytes: as Q4_K with 32 bytes of high bits (after the scales, before the low nibbles): bit
 *       {@code s} of byte {@code l} is the fifth bit of element {@code 32s + l}.</li>
 *   <li>Q6_K, 210 bytes: 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8 scales (one per 16
 *       elements), fp16 d. In each half of 128 elements, low-nibble byte {@code l} (of 64) and high byte
 *       {@code l} (of 32) give elements l, l + 32, l + 64, l + 96; x = d·scale·(q − 32).</li>
 * </ul>
 * Arithmetic is ggml's dequantize_row_q*_K: float products, in the same order.
 */
public final class KQuants {
    /** Elements per super-block. */
    public static final int QK_K = 256;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private KQuants() {}

    static void dequantize(GgmlType type, MemorySegment data, long byteOffset, float[] out, int outOffset, int n) {
        int blocks = n / QK_K;
        for (int b = 0; b < blocks; b++) {
            long p = byteOffset + (long) b * type.blockBytes();
            int o = outOffset + b * QK_K;
            switch (type) {
                case Q4_K -> q4K(data, p, out, o);
                case Q5_K -> q5K(data, p, out, o);
                case Q6_K -> q6K(data, p, out, o);
                default -> throw new UnsupportedTensorTypeException(type);
            }
        }
    }

    /**
     * The 6-bit scale (low 8 bits of the result) and min (bits 8..15) of sub-block {@code j} (0..7) from the 12
     * packed bytes at {@code p}: for j < 4 the low 6 bits of bytes j and j + 4; otherwise the nibbles of byte j + 4
     * with the top 2 bits of bytes j − 4 and j on top (ggml's get_scale_min_k4).
     */
    public static int scaleAndMin(MemorySegment data, long p, int j) {
        int scale;
        int min;
        if (j < 4) {
            scale = u8(data, p + j) & 63;
            min = u8(data, p + j + 4) & 63;
        } else {
            scale = (u8(data, p + j + 4) & 0xF) | ((u8(data, p + j - 4) >> 6) << 4);
            min = (u8(data, p + j + 4) >> 4) | ((u8(data, p + j) >> 6) << 4);
        }
        return scale | min << 8;
    }

    /**
     * The 8 scales of the 12 packed bytes at {@code p}, one per byte of the result (sub-block j in bits
     * {@code 8j .. 8j + 7}); the same values as {@link #scaleAndMin}, unpacked with whole-word operations as ggml's
     * x86 kernels do.
     */
    public static long packedScales(MemorySegment data, long p) {
        int u0 = data.get(I32, p);
        int u1 = data.get(I32, p + 4);
        int u2 = data.get(I32, p + 8);
        int low = u0 & 0x3f3f3f3f;
        int high = (u2 & 0x0f0f0f0f) | (((u0 >>> 6) & 0x03030303) << 4);
        return (low & 0xFFFFFFFFL) | ((long) high << 32);
    }

    /** The 8 mins of the 12 packed bytes at {@code p}, one per byte, as {@link #packedScales}. */
    public static long packedMins(MemorySegment data, long p) {
        int u1 = data.get(I32, p + 4);
        int u2 = data.get(I32, p + 8);
        int low = u1 & 0x3f3f3f3f;
        int high = ((u2 >>> 4) & 0x0f0f0f0f) | (((u1 >>> 6) & 0x03030303) << 4);
        return (low & 0xFFFFFFFFL) | ((long) high << 32);
    }

    private static void q4K(MemorySegment data, long p, float[] out, int o) {
        float d = half(data, p);
        float dmin = half(data, p + 2);
        long qs = p + 16;
        for (int g = 0; g < 4; g++) {
            int sm1 = scaleAndMin(data, p + 4, 2 * g);
            int sm2 = scaleAndMin(data, p + 4, 2 * g + 1);
            float d1 = d * (sm1 & 0xFF);
            float m1 = dmin * (sm1 >> 8);
            float d2 = d * (sm2 & 0xFF);
            float m2 = dmin * (sm2 >> 8);
            for (int l = 0; l < 32; l++) {
                int q = u8(data, qs + 32 * g + l);
                out[o + 64 * g + l] = d1 * (q & 0xF) - m1;
                out[o + 64 * g + 32 + l] = d2 * (q >> 4) - m2;
            }
        }
    }

    private static void q5K(MemorySegment data, long p, float[] out, int o) {
        float d = half(data, p);
        float dmin = half(data, p + 2);
        long qh = p + 16;
        long qs = p + 48;
        for (int g = 0; g < 4; g++) {
            int sm1 = scaleAndMin(data, p + 4, 2 * g);
            int sm2 = scaleAndMin(data, p + 4, 2 * g + 1);
            float d1 = d * (sm1 & 0xFF);
            float m1 = dmin * (sm1 >> 8);
            float d2 = d * (sm2 & 0xFF);
            float m2 = dmin * (sm2 >> 8);
            for (int l = 0; l < 32; l++) {
                int q = u8(data, qs + 32 * g + l);
                int h = u8(data, qh + l);
                out[o + 64 * g + l] = d1 * ((q & 0xF) + ((h >> (2 * g)) & 1) * 16) - m1;
                out[o + 64 * g + 32 + l] = d2 * ((q >> 4) + ((h >> (2 * g + 1)) & 1) * 16) - m2;
            }
        }
    }

    private static void q6K(MemorySegment data, long p, float[] out, int o) {
        float d = half(data, p + 208);
        for (int half = 0; half < 2; half++) {
            long ql = p + 64 * half;
            long qh = p + 128 + 32 * half;
            long sc = p + 192 + 8 * half;
            int base = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int a = u8(data, ql + l);
                int b = u8(data, ql + 32 + l);
                int h = u8(data, qh + l);
                int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((b & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((b >> 4) | (((h >> 6) & 3) << 4)) - 32;
                out[base + l] = d * s8(data, sc + is) * q1;
                out[base + 32 + l] = d * s8(data, sc + is + 2) * q2;
                out[base + 64 + l] = d * s8(data, sc + is + 4) * q3;
                out[base + 96 + l] = d * s8(data, sc + is + 6) * q4;
            }
        }
    }

    private static float half(MemorySegment data, long p) {
        return Float.float16ToFloat(data.get(Dequantizer.I16, p));
    }

    private static int u8(MemorySegment data, long p) {
        return data.get(ValueLayout.JAVA_BYTE, p) & 0xFF;
    }

    private static int s8(MemorySegment data, long p) {
        return data.get(ValueLayout.JAVA_BYTE, p);
    }
}
