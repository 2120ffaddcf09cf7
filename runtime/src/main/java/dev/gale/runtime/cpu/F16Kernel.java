package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * F16 weights with fp16-rounded activations (ggml's vec-dot type for F16), added in tinyBLAS's order.
 */
final class F16Kernel implements WeightKernel {
    static final F16Kernel INSTANCE = new F16Kernel();

    private F16Kernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public void prepare(ActivationRows x, boolean batched) {
        x.rounded(GgmlType.F16);
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row) {
        return HalfRows.dot(w, offset, x.rounded, row * x.width(), x.width(), false);
    }

    @Override
    public int panelStride(int n) {
        return n;
    }

    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        HalfRows.toFloats(w, offset, panel, panelOffset, n, false);
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums) {
        FloatGemm.tile(panel, stride, x.rounded, t0 * x.width(), x.width(), x.width(), sums);
    }
}
