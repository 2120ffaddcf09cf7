package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.F32;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/** F32 weights with F32 activations: one 16-lane fused multiply-add chain per dot product, as tinyBLAS. */
final class F32Kernel implements WeightKernel {
    static final F32Kernel INSTANCE = new F32Kernel();

    private F32Kernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public void prepare(ActivationRows x, ProductPath path) {
        // F32 weights read the activations as they are
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        float[] a = x.values;
        int xo = row * n;
        FloatVector acc = FloatVector.zero(F);
        int vectors = n & ~15;
        for (int i = 0; i < vectors; i += 16) {
            acc = FloatVector.fromMemorySegment(F, w, offset + 4L * i, LE).fma(FloatVector.fromArray(F, a, xo + i), acc);
        }
        acc.intoArray(lanes, 0);
        float s = Simd.sum16(lanes, 0);
        for (int i = vectors; i < n; i++) {
            s += w.get(F32, offset + 4L * i) * a[xo + i];
        }
        return s;
    }

    /** {@link #dot} of four rows at once (see {@link WeightKernel#dot4}), sharing the loads of the activations. */
    @Override
    public void dot4(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        int n = x.width();
        float[] a = x.values;
        int xo = row * n;
        long o0 = offset;
        long o1 = offset + gap;
        long o2 = offset + 2 * gap;
        long o3 = offset + 3 * gap;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        int vectors = n & ~15;
        for (int i = 0; i < vectors; i += 16) {
            FloatVector xv = FloatVector.fromArray(F, a, xo + i);
            acc0 = FloatVector.fromMemorySegment(F, w, o0 + 4L * i, LE).fma(xv, acc0);
            acc1 = FloatVector.fromMemorySegment(F, w, o1 + 4L * i, LE).fma(xv, acc1);
            acc2 = FloatVector.fromMemorySegment(F, w, o2 + 4L * i, LE).fma(xv, acc2);
            acc3 = FloatVector.fromMemorySegment(F, w, o3 + 4L * i, LE).fma(xv, acc3);
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 16);
        acc2.intoArray(lanes, 32);
        acc3.intoArray(lanes, 48);
        for (int j = 0; j < 4; j++) {
            long at = offset + j * gap;
            float s = Simd.sum16(lanes, 16 * j);
            for (int i = vectors; i < n; i++) {
                s += w.get(F32, at + 4L * i) * a[xo + i];
            }
            out[o + j * outGap] = s;
        }
    }

    @Override
    public int panelStride(int n) {
        return n;
    }

    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        MemorySegment.copy(w, F32, offset, panel, panelOffset, n);
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        FloatGemm.tile(panel, stride, x.values, t0 * x.width(), x.width(), x.width(), sums, lanes);
    }
}
