package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;

/** Q5_K weights with Q8_K activations ({@link Q45KRows}). */
final class Q5_KKernel implements WeightKernel {
    static final Q5_KKernel INSTANCE = new Q5_KKernel();

    private Q5_KKernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public void prepare(ActivationRows x, boolean batched) {
        x.prepareQ8_K();
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row) {
        return Q45KRows.dot(w, offset, x, row, true);
    }

    @Override
    public int panelStride(int n) {
        return n;
    }

    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        Q45KRows.toFloats(w, offset, panel, panelOffset, n, true);
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums) {
        FloatGemm.tile(panel, stride, x.qkValues, t0 * x.width(), x.width(), x.width(), sums);
    }
}
