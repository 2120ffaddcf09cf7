package dev.gale.model.tensor;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/** Reference dequantization of the k-quant block formats (super-blocks of 256). */
final class KQuants {
    private KQuants() {}

    static void dequantize(GgmlType type, MemorySegment data, long byteOffset, float[] out, int outOffset, int n) {
        throw new UnsupportedTensorTypeException(type);
    }
}
