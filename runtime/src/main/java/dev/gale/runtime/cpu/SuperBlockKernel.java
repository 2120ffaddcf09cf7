package dev.gale.runtime.cpu;

import dev.gale.model.tensor.KQuants;
import java.lang.foreign.MemorySegment;

/**
 * The k-quant kernels (super-blocks of 256) with Q8_K activations. Both paths expand the weights to the same float
 * values ({@link #expand} for the panel; the decode kernels compute them in registers) and multiply them with the
 * activations' Q8_K values in one 16-lane fused multiply-add chain per dot product, in the same order, so a row's
 * result is the same alone or in a batch. (ggml sums each sub-block in integers first; results agree with it to
 * rounding.)
 */
abstract sealed class SuperBlockKernel implements WeightKernel permits Q4_KKernel, Q5_KKernel, Q6_KKernel {
    static final int QK = KQuants.QK_K;

    /** Bytes of one super-block. */
    abstract int blockBytes();

    /** Writes the 256 values of the super-block at byte {@code p} to {@code dst[o .. o + 256)}. */
    abstract void expand(MemorySegment w, long p, float[] dst, int o);

    @Override
    public final void prepare(ActivationRows x, ProductPath path) {
        x.prepareQ8_K();
    }

    @Override
    public final int panelStride(int n) {
        return n;
    }

    @Override
    public final void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        for (int k0 = 0; k0 < n; k0 += QK) {
            expand(w, offset + (long) blockBytes() * (k0 / QK), panel, panelOffset + k0);
        }
    }

    @Override
    public final void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        FloatGemm.tile(panel, stride, x.qkValues, t0 * x.width(), x.width(), x.width(), sums, lanes);
    }
}
