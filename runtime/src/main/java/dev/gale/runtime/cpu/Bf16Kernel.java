package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/**
 * BF16 weights with bf16-rounded activations (ggml's vec-dot type for BF16). tinyBLAS uses a bf16 dot instruction
 * that rounds inside each pair, so results agree with llama.cpp to rounding.
 */
final class Bf16Kernel implements WeightKernel {
    static final Bf16Kernel INSTANCE = new Bf16Kernel();

    private Bf16Kernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public void prepare(ActivationRows x, boolean batched) {
        x.rounded(GgmlType.BF16);
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row) {
        return HalfRows.dot(w, offset, x.rounded, row * x.width(), x.width(), true);
    }

    @Override
    public int panelStride(int n) {
        return n;
    }

    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        HalfRows.toFloats(w, offset, panel, panelOffset, n, true);
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums) {
        FloatGemm.tile(panel, stride, x.rounded, t0 * x.width(), x.width(), x.width(), sums);
    }
}
