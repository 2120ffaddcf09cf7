package dev.gale.model.gguf;

import java.util.Arrays;

/**
 * One tensor's header entry.
 *
 * @param name       tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param dimensions ggml order: {@code dimensions[0]} is the length of a row (the fastest-varying index)
 * @param type       element type
 * @param offset     byte offset from the start of the tensor-data section
 */
public record GgufTensorInfo(String name, long[] dimensions, GgmlType type, long offset) {

    public GgufTensorInfo {
        dimensions = dimensions.clone();
    }

    @Override
    public long[] dimensions() {
        return dimensions.clone();
    }

    public int rank() {
        return dimensions.length;
    }

    public long dimension(int i) {
        return i < dimensions.length ? dimensions[i] : 1;
    }

    public long elementCount() {
        long n = 1;
        for (long d : dimensions) {
            n *= d;
        }
        return n;
    }

    public long byteSize() {
        return type.byteSize(elementCount());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(dimensions, t.dimensions)
                && type == t.type && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dimensions);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dimensions) + " @" + offset;
    }
}
