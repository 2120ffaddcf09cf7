package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Dequantizer;
import dev.gale.model.tensor.UnsupportedTensorTypeException;
import java.lang.foreign.MemorySegment;

/**
 * Plain-Java kernels for every weight type, for machines without 512-bit vectors: there the Vector API kernels are
 * not compiled to vector instructions and would run a hundred times slower than this. A weight row is dequantized
 * {@value #CHUNK} elements at a time (with the reference {@link Dequantizer}) and multiplied with the activation form
 * the type reads, so results agree with the vector kernels to rounding.
 */
final class PortableKernel implements WeightKernel {
    /** Elements dequantized at a time: a whole number of blocks of every type, and the size of the scratch. */
    static final int CHUNK = WeightKernel.SCRATCH;

    private final GgmlType type;

    private PortableKernel(GgmlType type) {
        this.type = type;
    }

    private static final PortableKernel[] BY_TYPE = new PortableKernel[GgmlType.values().length];

    static {
        for (GgmlType t : GgmlType.values()) {
            if (t.isSupportedForCompute()) {
                BY_TYPE[t.ordinal()] = new PortableKernel(t);
            }
        }
    }

    static PortableKernel of(String tensor, GgmlType type) {
        PortableKernel k = BY_TYPE[type.ordinal()];
        if (k == null) {
            throw new UnsupportedTensorTypeException(tensor, type);
        }
        return k;
    }

    @Override
    public GgmlType type() {
        return type;
    }

    @Override
    public void prepare(ActivationRows x, ProductPath path) {
        switch (type) {
            case F16, BF16 -> x.rounded(type);
            case Q8_0, Q4_0 -> x.prepareQ8_0Values();
            case Q4_K, Q5_K, Q6_K -> x.prepareQ8_K();
            default -> { }
        }
    }

    /** The exact values of the prepared activation form. */
    private float[] activations(ActivationRows x) {
        return switch (type) {
            case F16, BF16 -> x.rounded;
            case Q8_0, Q4_0 -> x.q8Values;
            case Q4_K, Q5_K, Q6_K -> x.qkValues;
            default -> x.values;
        };
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        float[] a = activations(x);
        int xo = row * n;
        float s = 0;
        for (int k0 = 0; k0 < n; k0 += CHUNK) {
            int len = Math.min(CHUNK, n - k0);
            Dequantizer.dequantize(type, w, offset + type.byteSize(k0), lanes, 0, len);
            for (int i = 0; i < len; i++) {
                s += lanes[i] * a[xo + k0 + i];
            }
        }
        return s;
    }

    @Override
    public int panelStride(int n) {
        return n;
    }

    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        Dequantizer.dequantize(type, w, offset, panel, panelOffset, n);
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        float[] a = activations(x);
        int n = x.width();
        for (int r = 0; r < FloatGemm.ROWS; r++) {
            for (int t = 0; t < FloatGemm.TOKENS; t++) {
                int p = r * stride;
                int xo = (t0 + t) * n;
                float s = 0;
                for (int k = 0; k < n; k++) {
                    s += panel[p + k] * a[xo + k];
                }
                sums[r * FloatGemm.TOKENS + t] = s;
            }
        }
    }
}
