package dev.gale.tornado.kernels;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Reading weight matrices on the device in their GGUF form. A matrix is uploaded as its raw bytes, viewed as
 * 16-bit words (every GGUF block of a supported type starts on a 2-byte boundary), and decoded inside the kernel:
 * <ul>
 *   <li>{@link #F32}: two words per value, low word first;</li>
 *   <li>{@link #F16} / {@link #BF16}: one word per value;</li>
 *   <li>{@link #Q8_0}: blocks of 17 words, an fp16 scale then 32 signed bytes;</li>
 *   <li>{@link #Q4_0}: blocks of 9 words, an fp16 scale then 16 bytes whose low nibbles are values 0..15 and
 *       high nibbles values 16..31 of the block, each minus 8.</li>
 * </ul>
 * OpenCL devices without {@code cl_khr_fp16} and TornadoVM's kernels without {@code Float.intBitsToFloat} leave no
 * bit-cast, so a float is rebuilt exactly from its fields as {@code mantissa × 2^k}, with {@code 2^k} read from a
 * small table ({@link #powersOfTwo()}). The methods are plain static Java that TornadoVM inlines into the kernels;
 * the type code is a kernel parameter, which TornadoVM specializes to a constant, so only one branch is compiled.
 *
 * <p>A thread of a work-group reduces one row in units: 4 values for F32/F16/BF16, a quarter block (8 values)
 * for Q8_0/Q4_0; thread {@code t} of {@code L} takes units {@code t, t+L, ...}, so neighbouring threads read
 * neighbouring words.
 */
public final class PackedWeights {
    /** GGUF type codes of the supported matrix types. */
    public static final int F32 = 0;
    public static final int F16 = 1;
    public static final int Q4_0 = 2;
    public static final int Q8_0 = 8;
    public static final int BF16 = 30;

    /** {@code powersOfTwo()[k] = 2^(k - POW2_OFFSET)}, covering every exponent that the decoders need. */
    public static final int POW2_OFFSET = 149;
    public static final int POW2_SIZE = 272;

    private PackedWeights() {}

    /** The table the decoders scale by: 2^-149 .. 2^122. */
    public static FloatArray powersOfTwo() {
        FloatArray t = new FloatArray(POW2_SIZE);
        for (int k = 0; k < POW2_SIZE; k++) {
            t.set(k, Math.scalb(1f, k - POW2_OFFSET));
        }
        return t;
    }

    /** 16-bit words of one row of {@code n} values. */
    public static int rowWords(int type, int n) {
        if (type == F32) {
            return 2 * n;
        } else if (type == Q8_0) {
            return n / 32 * 17;
        } else if (type == Q4_0) {
            return n / 32 * 9;
        }
        return n;
    }

    /** An fp16 value from its bits (the low 16 bits of {@code h}). */
    public static float f16(int h, FloatArray pow2) {
        int e = (h >> 10) & 0x1F;
        int m = h & 0x3FF;
        // (1024 + m) · 2^(e - 25); subnormal: m · 2^-24
        float mag = (e == 0 ? m : (m | 0x400)) * pow2.get((e == 0 ? 1 : e) + 124);
        return (h & 0x8000) != 0 ? -mag : mag;
    }

    /** A bf16 value from its bits (the low 16 bits of {@code h}). */
    public static float bf16(int h, FloatArray pow2) {
        int e = (h >> 7) & 0xFF;
        int m = h & 0x7F;
        // (128 + m) · 2^(e - 134); subnormal: m · 2^-133
        float mag = (e == 0 ? m : (m | 0x80)) * pow2.get((e == 0 ? 1 : e) + 15);
        return (h & 0x8000) != 0 ? -mag : mag;
    }

    /** An F32 value from its low and high 16-bit words. */
    public static float f32(int lo, int hi, FloatArray pow2) {
        int e = (hi >> 7) & 0xFF;
        int m = ((hi & 0x7F) << 16) | (lo & 0xFFFF);
        // (2^23 + m) · 2^(e - 150); subnormal: m · 2^-149
        float mag = (e == 0 ? m : (m | 0x800000)) * pow2.get((e == 0 ? 1 : e) - 1);
        return (hi & 0x8000) != 0 ? -mag : mag;
    }

    /**
     * The low byte of a 16-bit word as a signed value. Masked, then sign-folded, rather than {@code (word << 24) >> 24}:
     * TornadoVM 5.2's PTX backend emits Java's {@code >>} on an {@code int} as {@code shr.b32}, which PTX defines as
     * a logical shift, so an arithmetic shift cannot carry the sign there (it gave Q8_0 values of 2^24 on an H200).
     */
    static int signedLow(int word) {
        int b = word & 0xFF;
        return b - ((b & 0x80) << 1);
    }

    /** The high byte of a 16-bit word as a signed value (see {@link #signedLow}). */
    static int signedHigh(int word) {
        int b = (word >> 8) & 0xFF;
        return b - ((b & 0x80) << 1);
    }

    /** Value {@code i} of row {@code row} (for single lookups such as the token embedding). */
    public static float value(int type, ShortArray w, int row, int n, int i, FloatArray pow2) {
        int base = row * rowWords(type, n);
        if (type == F32) {
            return f32(w.get(base + 2 * i), w.get(base + 2 * i + 1), pow2);
        } else if (type == F16) {
            return f16(w.get(base + i), pow2);
        } else if (type == BF16) {
            return bf16(w.get(base + i), pow2);
        } else if (type == Q8_0) {
            int block = base + (i >> 5) * 17;
            int j = i & 31;
            int word = w.get(block + 1 + (j >> 1));
            int q = (j & 1) == 0 ? signedLow(word) : signedHigh(word);
            return f16(w.get(block), pow2) * q;
        } else {
            int block = base + (i >> 5) * 9;
            int j = i & 31;
            int b = j & 15;
            int word = w.get(block + 1 + (b >> 1));
            int bits = (b & 1) == 0 ? word & 0xFF : (word >> 8) & 0xFF;
            int nibble = j < 16 ? bits & 0xF : (bits >> 4) & 0xF;
            return f16(w.get(block), pow2) * ((float) nibble - 8f);
        }
    }

    /**
     * This thread's share of the dot product of row {@code row} ({@code n} values) of a quantized matrix (Q8_0,
     * Q4_0) with {@code x}: units {@code t, t + L, ...}. TornadoVM inlines at most 600 graph nodes per call below
     * the kernel itself, so a kernel picks between this and {@link #floatPartial} (whose code fits that budget)
     * by {@link #isQuantized}.
     */
    public static float quantizedPartial(int type, ShortArray w, int row, int n, FloatArray x, int t, int L,
                                         FloatArray pow2) {
        int base = row * rowWords(type, n);
        return type == Q8_0 ? partialQ8(w, base, n / 8, x, t, L, pow2) : partialQ4(w, base, n / 8, x, t, L, pow2);
    }

    /** As {@link #quantizedPartial}, for F32, F16 and BF16 matrices. */
    public static float floatPartial(int type, ShortArray w, int row, int n, FloatArray x, int t, int L,
                                     FloatArray pow2) {
        int base = row * rowWords(type, n);
        return type == F32 ? partialF32(w, base, n / 4, x, t, L, pow2) : partial16(type == BF16, w, base, n / 4, x, t, L, pow2);
    }

    public static boolean isQuantized(int type) {
        return type == Q8_0 || type == Q4_0;
    }

    private static float partialQ8(ShortArray w, int base, int units, FloatArray x, int t, int L,
                                   FloatArray pow2) {
        float sum = 0f;
        for (int u = t; u < units; u += L) {
            int block = base + (u >> 2) * 17;
            int words = block + 1 + 4 * (u & 3);
            int j = 8 * u;
            float s = 0f;
            for (int i = 0; i < 4; i++) {
                int word = w.get(words + i);
                s += signedLow(word) * x.get(j + 2 * i) + signedHigh(word) * x.get(j + 2 * i + 1);
            }
            sum += f16(w.get(block), pow2) * s;
        }
        return sum;
    }

    private static float partialQ4(ShortArray w, int base, int units, FloatArray x, int t, int L,
                                   FloatArray pow2) {
        float sum = 0f;
        for (int u = t; u < units; u += L) {
            int block = base + (u >> 2) * 9;
            int quarter = u & 3;
            int words = block + 1 + 2 * quarter;
            int j = (u >> 2) * 32 + 4 * quarter;
            float s = 0f;
            for (int i = 0; i < 2; i++) {
                int word = w.get(words + i);
                int b0 = word & 0xFF;
                int b1 = (word >> 8) & 0xFF;
                s += ((float) (b0 & 0xF) - 8f) * x.get(j + 2 * i)
                        + ((float) (b1 & 0xF) - 8f) * x.get(j + 2 * i + 1)
                        + ((float) (b0 >> 4) - 8f) * x.get(j + 2 * i + 16)
                        + ((float) (b1 >> 4) - 8f) * x.get(j + 2 * i + 17);
            }
            sum += f16(w.get(block), pow2) * s;
        }
        return sum;
    }

    private static float partialF32(ShortArray w, int base, int units, FloatArray x, int t, int L,
                                    FloatArray pow2) {
        float sum = 0f;
        for (int u = t; u < units; u += L) {
            int words = base + 8 * u;
            for (int i = 0; i < 4; i++) {
                sum += f32(w.get(words + 2 * i), w.get(words + 2 * i + 1), pow2) * x.get(4 * u + i);
            }
        }
        return sum;
    }

    /** F16 or (when {@code brain}) BF16. */
    private static float partial16(boolean brain, ShortArray w, int base, int units, FloatArray x, int t,
                                   int L, FloatArray pow2) {
        float sum = 0f;
        for (int u = t; u < units; u += L) {
            int words = base + 4 * u;
            for (int i = 0; i < 4; i++) {
                int h = w.get(words + i);
                sum += (brain ? bf16(h, pow2) : f16(h, pow2)) * x.get(4 * u + i);
            }
        }
        return sum;
    }
}
