package dev.gale.model.tensor;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A named tensor whose data is a zero-copy view (usually of a memory-mapped GGUF file).
 * Dimensions are in ggml order: {@code dims[0]} is the row length.
 */
public record Tensor(String name, GgmlType type, long[] dims, MemorySegment data) {

    public Tensor {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public long dim(int i) {
        return i < dims.length ? dims[i] : 1;
    }

    /** Length of one row (the first dimension). */
    public int rowLength() {
        return Math.toIntExact(dims[0]);
    }

    /** Number of rows: the product of every dimension but the first. */
    public int rows() {
        long n = 1;
        for (int i = 1; i < dims.length; i++) {
            n *= dims[i];
        }
        return Math.toIntExact(n);
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.byteSize(dims[0]);
    }

    /** Dequantizes one row into {@code out[outOffset ..]}. */
    public void dequantizeRow(int row, float[] out, int outOffset) {
        Dequantizer.dequantize(type, data, row * rowBytes(), out, outOffset, rowLength());
    }

    /** Dequantizes the whole tensor (for tests, small tensors and norms; never for large weights on the hot path). */
    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(elementCount())];
        Dequantizer.dequantize(type, data, 0, out, 0, out.length);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
