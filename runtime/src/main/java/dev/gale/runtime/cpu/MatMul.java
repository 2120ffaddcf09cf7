package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.tensor.UnsupportedTensorTypeException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Matrix products of packed weights with activation rows, computed on the packed blocks directly:
 * {@code out[t * outStride + outOffset + r] = dot(weight row r, input row t)}.
 * Rows of the weight are split across the worker pool; every input row is applied to a weight row while it is
 * in cache, so a batch of tokens reads the weights once.
 */
public final class MatMul {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private MatMul() {}

    /** out[t * rowsOut + r] for all rows of the weight. */
    public static void matmul(WorkerPool pool, Tensor w, ActivationRows x, float[] out) {
        matmul(pool, w, x, out, 0, w.rows(), w.rows(), 0);
    }

    /**
     * Computes weight rows {@code [rowStart, rowStart + rowCount)} into
     * {@code out[t * outStride + outOffset + (r - rowStart)]}.
     */
    public static void matmul(WorkerPool pool, Tensor w, ActivationRows x, float[] out,
                              int rowStart, int rowCount, int outStride, int outOffset) {
        if (w.rowLength() != x.width()) {
            throw new IllegalArgumentException(w.name() + ": row length " + w.rowLength() + " != input width " + x.width());
        }
        GgmlType type = w.type();
        x.prepareFor(type, pool);
        int n = x.rows();
        int cols = x.width();
        MemorySegment data = w.data();
        long rowBytes = w.rowBytes();
        pool.parallelFor(rowCount, 16, (start, end) -> {
            for (int r = start; r < end; r++) {
                long rowOff = (rowStart + r) * rowBytes;
                for (int t = 0; t < n; t++) {
                    out[t * outStride + outOffset + r] = switch (type) {
                        case F32 -> dotF32(data, rowOff, x.values, t * cols, cols);
                        case F16 -> dotF16(data, rowOff, x.rounded, t * cols, cols);
                        case BF16 -> dotBf16(data, rowOff, x.rounded, t * cols, cols);
                        case Q8_0 -> dotQ8(data, rowOff, x, t * (cols / 32), cols / 32);
                        case Q4_0 -> dotQ4(data, rowOff, x, t * (cols / 32), cols / 32);
                        default -> throw new UnsupportedTensorTypeException(w.name(), type);
                    };
                }
            }
        });
    }

    static float dotF32(MemorySegment w, long off, float[] x, int xOff, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) {
            s += w.get(F32, off + 4L * i) * x[xOff + i];
        }
        return s;
    }

    static float dotF16(MemorySegment w, long off, float[] x, int xOff, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) {
            s += Float.float16ToFloat(w.get(I16, off + 2L * i)) * x[xOff + i];
        }
        return s;
    }

    static float dotBf16(MemorySegment w, long off, float[] x, int xOff, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) {
            s += Float.intBitsToFloat((w.get(I16, off + 2L * i) & 0xFFFF) << 16) * x[xOff + i];
        }
        return s;
    }

    static float dotQ8(MemorySegment w, long off, ActivationRows x, int blockOff, int blocks) {
        float s = 0;
        for (int b = 0; b < blocks; b++) {
            long p = off + 34L * b;
            float d = Float.float16ToFloat(w.get(I16, p));
            int xb = (blockOff + b) * 32;
            int acc = 0;
            for (int j = 0; j < 32; j++) {
                acc += w.get(ValueLayout.JAVA_BYTE, p + 2 + j) * x.q8[xb + j];
            }
            s += d * x.q8Scale[blockOff + b] * acc;
        }
        return s;
    }

    static float dotQ4(MemorySegment w, long off, ActivationRows x, int blockOff, int blocks) {
        float s = 0;
        for (int b = 0; b < blocks; b++) {
            long p = off + 18L * b;
            float d = Float.float16ToFloat(w.get(I16, p));
            int xb = (blockOff + b) * 32;
            int acc = 0;
            for (int j = 0; j < 16; j++) {
                int q = w.get(ValueLayout.JAVA_BYTE, p + 2 + j) & 0xFF;
                acc += ((q & 0x0F) - 8) * x.q8[xb + j] + ((q >>> 4) - 8) * x.q8[xb + j + 16];
            }
            s += d * x.q8Scale[blockOff + b] * acc;
        }
        return s;
    }
}
