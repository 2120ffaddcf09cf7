package dev.gale.model.tensor;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.IntStream;

/**
 * Quantization of float rows into ggml block formats, following ggml's reference quantizers (the ones
 * llama-quantize uses without an importance matrix): quantize_row_q8_0_ref, quantize_row_q4_0_ref,
 * quantize_row_q4_K_ref, quantize_row_q5_K_ref and quantize_row_q6_K_ref, plus the F16 and BF16 conversions (round to nearest even).
 */
public final class Quantizer {
    private Quantizer() {}

    /** True if {@link #quantize} can produce {@code type}. */
    public static boolean canQuantize(GgmlType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Quantizes {@code src[srcOffset .. srcOffset + n)} ({@code n} a multiple of the block size) into {@code dst} at
     * byte {@code dstOffset}.
     */
    public static void quantize(GgmlType type, float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        if (n % type.blockSize() != 0) {
            throw new IllegalArgumentException(n + " elements are not a whole number of " + type + " blocks");
        }
        switch (type) {
            case F32 -> MemorySegment.copy(src, srcOffset, dst, Dequantizer.F32, dstOffset, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(Dequantizer.I16, dstOffset + 2L * i, Float16.fromFloat(src[srcOffset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(Dequantizer.I16, dstOffset + 2L * i, Float16.floatToBf16(src[srcOffset + i]));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q8_0(src, srcOffset + 32 * b, dst, dstOffset + 34L * b);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q4_0(src, srcOffset + 32 * b, dst, dstOffset + 18L * b);
                }
            }
            case Q4_K, Q5_K -> {
                ScaleMinQuantizer q = type == GgmlType.Q4_K ? ScaleMinQuantizer.q4_K() : ScaleMinQuantizer.q5_K();
                for (int b = 0; b < n / KQuants.QK_K; b++) {
                    q.quantizeBlock(src, srcOffset + KQuants.QK_K * b, dst, dstOffset + (long) q.blockBytes() * b);
                }
            }
            case Q6_K -> {
                Q6KQuantizer q = new Q6KQuantizer();
                for (int b = 0; b < n / KQuants.QK_K; b++) {
                    q.quantizeBlock(src, srcOffset + KQuants.QK_K * b, dst, dstOffset + 210L * b);
                }
            }
            default -> throw new IllegalArgumentException("cannot quantize to " + type
                    + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
        }
    }

    /** Produces the float values of row {@code r} into {@code dst} (row-length long). */
    @FunctionalInterface
    public interface RowSource {
        void row(long r, float[] dst);
    }

    /** Rows per parallel task of {@link #quantizeRows}. */
    private static final int ROWS_PER_TASK = 64;

    /**
     * Quantizes {@code rows} rows of {@code cols} elements, produced by {@code source}, into {@code dst} (row after
     * row), on all cores. {@code source} is called from several threads, for distinct rows.
     */
    public static void quantizeRows(GgmlType type, long rows, int cols, RowSource source, MemorySegment dst) {
        long rowBytes = type.byteSize(cols);
        int tasks = Math.toIntExact((rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK);
        IntStream.range(0, tasks).parallel().forEach(task -> {
            float[] row = new float[cols];
            long end = Math.min(rows, (long) (task + 1) * ROWS_PER_TASK);
            for (long r = (long) task * ROWS_PER_TASK; r < end; r++) {
                source.row(r, row);
                quantize(type, row, 0, cols, dst, r * rowBytes);
            }
        });
    }

    /** d = max|x| / 127 (stored as fp16), q = round-half-away(x / d). */
    private static void q8_0(float[] x, int o, MemorySegment dst, long p) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.set(Dequantizer.I16, p, Float16.fromFloat(d));
        for (int j = 0; j < 32; j++) {
            dst.set(ValueLayout.JAVA_BYTE, p + 2 + j, (byte) roundHalfAway(x[o + j] * id));
        }
    }

    /** d = (the element of largest magnitude) / −8 (fp16), q = min(15, trunc(x / d + 8.5)). */
    private static void q4_0(float[] x, int o, MemorySegment dst, long p) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        dst.set(Dequantizer.I16, p, Float16.fromFloat(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[o + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[o + 16 + j] * id + 8.5f));
            dst.set(ValueLayout.JAVA_BYTE, p + 2 + j, (byte) (lo | hi << 4));
        }
    }

    /** C's roundf: halfway cases away from zero. */
    static int roundHalfAway(float v) {
        int r = Math.round(Math.abs(v));
        return v < 0 ? -r : r;
    }

    /** ggml's nearest_int: round half to even. */
    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }
}
