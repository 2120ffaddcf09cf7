package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.I16;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0 weights (blocks of 32: fp16 scale, 32 int8 quants) with Q8_0 activations. One token ({@link #dot}) in
 * ggml's arithmetic: 8 lanes of exact 4-product integer sums per block, times the product of the block scales,
 * accumulated with one fused multiply-add per lane and block. Batches of {@value BlockGemm#MIN_TOKENS} tokens or more
 * go through {@link BlockGemm} ({@link #toBlockPanel}).
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
            x.prepareTiles(GgmlType.Q8_0);
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
            ShortVector products = wq.mul(ShortVector.fromArray(Simd.S, q, (xb + b) * BLOCK));
            // sums of each run of 4 adjacent 16-bit products, exactly, in 8 float lanes: the 32-bit lanes of x86's
            // vpdpbusd (pmaddubsw + pmaddwd), as ggml forms them (pairs into 32 bits, then pairs into 64)
            IntVector pairs = products.reinterpretAsInts();
            LongVector quads = pairs.add(pairs.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .reinterpretAsLongs();
            FloatVector sums = (FloatVector) quads.add(quads.lanewise(VectorOperators.LSHL, 32))
                    .lanewise(VectorOperators.ASHR, 32).convertShape(VectorOperators.L2F, Simd.F_HALF, 0);
            float d = Float.float16ToFloat(w.get(I16, p)) * scale[xb + b];
            acc = FloatVector.broadcast(Simd.F_HALF, d).fma(sums, acc);
        }
        acc.intoArray(lanes, 0);
        return Simd.sum8(lanes, 0);
    }

    /** {@link #dot} of four rows at once (see {@link WeightKernel#dot4}), sharing the loads of the activations. */
    @Override
    public void dot4(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        int blocks = x.width() / BLOCK;
        short[] q = x.q8;
        float[] scale = x.q8Scale;
        int xb = row * blocks;
        long o0 = offset;
        long o1 = offset + gap;
        long o2 = offset + 2 * gap;
        long o3 = offset + 3 * gap;
        FloatVector acc0 = FloatVector.zero(Simd.F_HALF);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int b = 0; b < blocks; b++) {
            ShortVector xq = ShortVector.fromArray(Simd.S, q, (xb + b) * BLOCK);
            float xs = scale[xb + b];
            long p0 = o0 + (long) BLOCK_BYTES * b;
            IntVector pairs0 = ((ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p0 + 2, LE)
                    .convertShape(VectorOperators.B2S, Simd.S, 0)).mul(xq).reinterpretAsInts();
            LongVector quads0 = pairs0.add(pairs0.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .reinterpretAsLongs();
            acc0 = FloatVector.broadcast(Simd.F_HALF, Float.float16ToFloat(w.get(I16, p0)) * xs)
                    .fma((FloatVector) quads0.add(quads0.lanewise(VectorOperators.LSHL, 32))
                            .lanewise(VectorOperators.ASHR, 32).convertShape(VectorOperators.L2F, Simd.F_HALF, 0), acc0);
            long p1 = o1 + (long) BLOCK_BYTES * b;
            IntVector pairs1 = ((ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p1 + 2, LE)
                    .convertShape(VectorOperators.B2S, Simd.S, 0)).mul(xq).reinterpretAsInts();
            LongVector quads1 = pairs1.add(pairs1.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .reinterpretAsLongs();
            acc1 = FloatVector.broadcast(Simd.F_HALF, Float.float16ToFloat(w.get(I16, p1)) * xs)
                    .fma((FloatVector) quads1.add(quads1.lanewise(VectorOperators.LSHL, 32))
                            .lanewise(VectorOperators.ASHR, 32).convertShape(VectorOperators.L2F, Simd.F_HALF, 0), acc1);
            long p2 = o2 + (long) BLOCK_BYTES * b;
            IntVector pairs2 = ((ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p2 + 2, LE)
                    .convertShape(VectorOperators.B2S, Simd.S, 0)).mul(xq).reinterpretAsInts();
            LongVector quads2 = pairs2.add(pairs2.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .reinterpretAsLongs();
            acc2 = FloatVector.broadcast(Simd.F_HALF, Float.float16ToFloat(w.get(I16, p2)) * xs)
                    .fma((FloatVector) quads2.add(quads2.lanewise(VectorOperators.LSHL, 32))
                            .lanewise(VectorOperators.ASHR, 32).convertShape(VectorOperators.L2F, Simd.F_HALF, 0), acc2);
            long p3 = o3 + (long) BLOCK_BYTES * b;
            IntVector pairs3 = ((ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, p3 + 2, LE)
                    .convertShape(VectorOperators.B2S, Simd.S, 0)).mul(xq).reinterpretAsInts();
            LongVector quads3 = pairs3.add(pairs3.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .reinterpretAsLongs();
            acc3 = FloatVector.broadcast(Simd.F_HALF, Float.float16ToFloat(w.get(I16, p3)) * xs)
                    .fma((FloatVector) quads3.add(quads3.lanewise(VectorOperators.LSHL, 32))
                            .lanewise(VectorOperators.ASHR, 32).convertShape(VectorOperators.L2F, Simd.F_HALF, 0), acc3);
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 8);
        acc2.intoArray(lanes, 16);
        acc3.intoArray(lanes, 24);
        for (int j = 0; j < 4; j++) {
            out[o + j * outGap] = Simd.sum8(lanes, 8 * j);
        }
    }

    @Override
    public boolean blockProduct() {
        return true;
    }

    @Override
    public void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, float[] scales, int r) {
        int blocks = n / BLOCK;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            int o = (b * BlockGemm.ROWS + r) * BLOCK;
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).intoArray(panel, o);
            ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).intoArray(panel, o + 16);
            scales[b * BlockGemm.ROWS + r] = Float.float16ToFloat(w.get(I16, p));
        }
    }
}
