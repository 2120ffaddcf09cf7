package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.I16;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 weights (blocks of 32: fp16 scale, 32 int8 quants) with Q8_0 activations, in ggml's arithmetic: 8 lanes of
 * exact 4-product integer sums per block, times the product of the block scales, accumulated with one fused
 * multiply-add per lane and block ({@link Simd#quadSums}).
 */
final class Q8_0Kernel implements WeightKernel {
    static final Q8_0Kernel INSTANCE = new Q8_0Kernel();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 34;

    private Q8_0Kernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public void prepare(ActivationRows x, boolean batched) {
        if (batched) {
            x.prepareQ8_0Lanes();
        } else {
            x.prepareQ8_0();
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int blocks = x.width() / BLOCK;
        short[] q = x.q8;
        float[] scale = x.q8Scale;
        int xb = row * blocks;
        FloatVector acc = FloatVector.zero(Simd.F_HALF);
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            ShortVector wq = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p + 2, LE)
                    .convertShape(VectorOperators.B2S, Simd.S, 0);
            FloatVector sums = Simd.quadSums(wq.mul(ShortVector.fromArray(Simd.S, q, (xb + b) * BLOCK)));
            float d = Float.float16ToFloat(w.get(I16, p)) * scale[xb + b];
            acc = FloatVector.broadcast(Simd.F_HALF, d).fma(sums, acc);
        }
        acc.intoArray(lanes, 0);
        return Simd.sum8(lanes, 0);
    }

    @Override
    public int panelStride(int n) {
        return Q0Gemm.panelStride(n);
    }

    @Override
    public void toPanel(MemorySegment w, long offset, float[] panel, int panelOffset, int n) {
        int blocks = n / BLOCK;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            FloatVector low = (FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0);
            FloatVector high = (FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0);
            Q0Gemm.putBlock(low, high, Float.float16ToFloat(w.get(I16, p)), panel, panelOffset, blocks, b);
        }
    }

    @Override
    public void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        Q0Gemm.tile(panel, stride, x, t0, sums, lanes);
    }
}
