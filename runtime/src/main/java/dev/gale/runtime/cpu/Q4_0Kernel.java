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
 * Q4_0 weights (blocks of 32: fp16 scale, 16 bytes whose low nibbles are elements 0..15 and high nibbles 16..31,
 * each stored +8) with Q8_0 activations. One token ({@link #dot}) in
 * ggml's arithmetic: 8 lanes of exact 4-product integer sums per block, times the product of the block scales,
 * accumulated with one fused multiply-add per lane and block. Batches of {@value BlockGemm#MIN_TOKENS} tokens or more
 * go through {@link BlockGemm} ({@link #toBlockPanel}).
 */
final class Q4_0Kernel implements WeightKernel {
    static final Q4_0Kernel INSTANCE = new Q4_0Kernel();
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 18;

    private Q4_0Kernel() {}

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void prepare(ActivationRows x, ProductPath path) {
        if (path == ProductPath.BLOCK) {
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
            ShortVector bytes = (ShortVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S_HALF, 0);
            // low nibbles (elements 0..15) in lanes 0..15, high nibbles (16..31) in lanes 16..31
            ShortVector wq = ((ShortVector) bytes.and((short) 15).reinterpretShape(Simd.S, 0))
                    .or((ShortVector) bytes.lanewise(VectorOperators.LSHR, 4).reinterpretShape(Simd.S, -1))
                    .sub((short) 8);
            ShortVector products = wq.mul(ShortVector.fromArray(Simd.S, q, (xb + b) * BLOCK));
            // sums of each run of 4 adjacent 16-bit products, exactly, in 8 float lanes: the 32-bit lanes of x86's
            // vpdpbusd (pmaddubsw + pmaddwd), as ggml forms them (see Q8_0Kernel) (pairs into 32 bits, then pairs into 64)
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

    @Override
    public boolean blockProduct() {
        return true;
    }

    /** Shorter rows (the test models) keep ggml's arithmetic in batches too, as their decode does. */
    @Override
    public int blockMinWidth() {
        return Q8_0Kernel.WIDE;
    }

    @Override
    public void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, long[] pairs, int r) {
        int blocks = n / BLOCK;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            int o = BlockGemm.at(b, r);
            float d = Float.float16ToFloat(w.get(I16, p));
            IntVector bytes = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
            // (q - 8) times the scale: exact
            FloatVector low = ((FloatVector) bytes.and(15).sub(8).convert(VectorOperators.I2F, 0)).mul(d);
            FloatVector high = ((FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).sub(8).convert(VectorOperators.I2F, 0))
                    .mul(d);
            if (pairs != null) {
                low.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(b, r));
                high.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(b, r) + 8);
            } else {
                low.intoArray(panel, o);
                high.intoArray(panel, o + 16);
            }
        }
    }
}
