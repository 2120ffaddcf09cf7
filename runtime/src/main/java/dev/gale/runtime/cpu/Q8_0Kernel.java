package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.F32;
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
 * Q8_0 weights (blocks of 32: fp16 scale, 32 int8 quants) with Q8_0 activations, read in place.
 * <ul>
 *   <li>Rows shorter than {@value #WIDE} elements (the test models) take ggml's arithmetic: 8 lanes of exact
 *       4-product integer sums per block, times the product of the block scales, accumulated with one fused
 *       multiply-add per lane and block, so that the results agree with llama.cpp's bit for bit.</li>
 *   <li>Rows of {@value #WIDE} elements or more (real models) take a float form that costs about two thirds of the
 *       vector instructions: each block's quants are converted to float and multiplied by its scale, which is exact (an
 *       fp16 scale times an 8-bit quant needs 19 bits), and multiplied with the activation's exact Q8_0 values
 *       ({@link ActivationRows#q8Values}) in 16 lanes, two fused multiply-adds per block. Every product is ggml's;
 *       only the rounding of the sums differs. Its real gain is on small batches: {@link #dotTokens4} converts each
 *       block once for four tokens, which multiplies batches of 4 to {@value #MAX_TOKEN_ROWS} tokens (a server's
 *       decode steps) about twice as fast as the decode kernel token after token, each token bit for bit its
 *       {@link #dot}.</li>
 * </ul>
 * Batches of more than {@value #MAX_TOKEN_ROWS} tokens go through {@link BlockGemm} ({@link #toBlockPanel}) on rows of
 * {@value #WIDE} elements or more; shorter rows keep ggml's arithmetic there too, row by row ({@link #blockMinWidth}).
 */
final class Q8_0Kernel implements WeightKernel {
    static final Q8_0Kernel INSTANCE = new Q8_0Kernel(null);
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 34;
    /**
     * Rows of at least this many elements take the float form (see the class comment): every real model's (Qwen2.5
     * 0.5B's are 896 wide), none of the test models' (at most 128), whose goldens stay bit for bit.
     */
    static final int WIDE = 256;
    /**
     * The largest batch {@link #dotTokens4} multiplies. Measured on an 8192 × 2048 matrix, two threads (GFLOP/s,
     * token path against {@link BlockGemm}): 4 tokens 46–47 against 21–23, 8 tokens 50–54 against 26–36, 9 tokens
     * 48–49 against 39–42, 10 tokens 45 against 44–49, 16 tokens 51–54 against 57–69.
     */
    static final int MAX_TOKEN_ROWS = 9;

    /**
     * The matrix's block scales as floats, block i at byte {@code 4 i} ({@link RepackedMatrices}), or null: read from
     * the file.
     */
    private final MemorySegment sideScales;

    private Q8_0Kernel(MemorySegment sideScales) {
        this.sideScales = sideScales;
    }

    /**
     * The kernel for one matrix whose block scales are also held as floats ({@code scales}, block i at byte 4 i):
     * its decode on rows of {@value #WIDE} elements or more reads them there instead of converting the file's fp16
     * scale of every block, which is a good part of that kernel's arithmetic (the 1B shape: 9.2–9.5 → 11.3 tok/s).
     */
    static Q8_0Kernel withScales(MemorySegment scales) {
        return new Q8_0Kernel(scales);
    }

    /** Writes the float scales of the Q8_0 matrix {@code w} ({@code blocks} blocks from block {@code from}). */
    static void writeScales(MemorySegment w, MemorySegment scales, long from, long blocks) {
        for (long i = from; i < from + blocks; i++) {
            scales.set(F32, Float.BYTES * i, Float.float16ToFloat(w.get(I16, BLOCK_BYTES * i)));
        }
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public void prepare(ActivationRows x, ProductPath path) {
        if (path == ProductPath.BLOCK) {
            x.prepareTiles(GgmlType.Q8_0);
        } else if (x.width() >= WIDE) {
            x.prepareQ8_0Values();
        } else {
            x.prepareQ8_0();
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        if (x.width() >= WIDE) {
            return dotWide(w, offset, x, row, lanes);
        }
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
        if (x.width() >= WIDE) {
            dot4Wide(w, offset, gap, sideScales, x, row, lanes, out, o, outGap);
            return;
        }
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

    /**
     * Eight rows at once where the matrix has its float scales ({@link #withScales}): the 1B shape decoded at
     * 14.51–14.63 tok/s against 13.63–13.72 with four (alternating runs on a 2-core Emerald Rapids Xeon). Written
     * for that case alone: with the fp16 scales' conversion as well, the method outgrew what the JIT compiles.
     */
    @Override
    public int decodeStreams() {
        return sideScales != null ? 8 : 4;
    }

    @Override
    public void dot8(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        if (x.width() < WIDE || sideScales == null) {
            WeightKernel.super.dot8(w, offset, gap, x, row, lanes, out, o, outGap);
            return;
        }
        dot8Wide(w, offset, gap, sideScales, x.q8Values, row * x.width(), x.width() / BLOCK, lanes, out, o, outGap);
    }

    /** {@link #dot4Wide} of eight rows, their block scales read from {@code scales}. */
    private static void dot8Wide(MemorySegment w, long offset, long gap, MemorySegment scales, float[] v, int e,
            int blocks, float[] lanes, float[] out, int o, int outGap) {
        long s = offset / BLOCK_BYTES * Float.BYTES;
        long sg = gap / BLOCK_BYTES * Float.BYTES;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        FloatVector acc4 = FloatVector.zero(F);
        FloatVector acc5 = FloatVector.zero(F);
        FloatVector acc6 = FloatVector.zero(F);
        FloatVector acc7 = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            FloatVector x0 = FloatVector.fromArray(F, v, e + BLOCK * b);
            FloatVector x1 = FloatVector.fromArray(F, v, e + BLOCK * b + 16);
            long q = offset + (long) BLOCK_BYTES * b;
            long t = s + (long) Float.BYTES * b;
            long o0 = q + 0 * gap;
            long o1 = q + 1 * gap;
            long o2 = q + 2 * gap;
            long o3 = q + 3 * gap;
            long o4 = q + 4 * gap;
            long o5 = q + 5 * gap;
            long o6 = q + 6 * gap;
            long o7 = q + 7 * gap;
            float d0 = scales.get(F32, t + 0 * sg);
            float d1 = scales.get(F32, t + 1 * sg);
            float d2 = scales.get(F32, t + 2 * sg);
            float d3 = scales.get(F32, t + 3 * sg);
            float d4 = scales.get(F32, t + 4 * sg);
            float d5 = scales.get(F32, t + 5 * sg);
            float d6 = scales.get(F32, t + 6 * sg);
            float d7 = scales.get(F32, t + 7 * sg);
            acc0 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o0 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(x0, acc0));
            acc1 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o1 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(x0, acc1));
            acc2 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d2).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o2 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d2).fma(x0, acc2));
            acc3 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d3).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o3 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d3).fma(x0, acc3));
            acc4 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o4 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d4).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o4 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d4).fma(x0, acc4));
            acc5 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o5 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d5).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o5 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d5).fma(x0, acc5));
            acc6 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o6 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d6).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o6 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d6).fma(x0, acc6));
            acc7 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o7 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d7).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, o7 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d7).fma(x0, acc7));
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 16);
        acc2.intoArray(lanes, 32);
        acc3.intoArray(lanes, 48);
        acc4.intoArray(lanes, 64);
        acc5.intoArray(lanes, 80);
        acc6.intoArray(lanes, 96);
        acc7.intoArray(lanes, 112);
        for (int j = 0; j < 8; j++) {
            out[o + j * outGap] = Simd.sum16(lanes, 16 * j);
        }
    }

    /** {@link #dot} in the float form: 16 lanes, each block's dequantized quants times the activation's values. */
    private static float dotWide(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        int blocks = n / BLOCK;
        float[] v = x.q8Values;
        int e = row * n;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, p)));
            FloatVector w0 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d);
            FloatVector w1 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d);
            int k = e + BLOCK * b;
            acc = w1.fma(FloatVector.fromArray(F, v, k + 16), w0.fma(FloatVector.fromArray(F, v, k), acc));
        }
        acc.intoArray(lanes, 0);
        return Simd.sum16(lanes, 0);
    }

    /**
     * {@link #dot4} in the float form ({@link #dotWide}), sharing the loads of the activations. Each block's scale is
     * read as a float from {@code scales} (block i of the matrix at {@code 4 i}) where the matrix has that copy
     * ({@link #withScales}), else converted from the file's fp16: the same values either way.
     */
    private static void dot4Wide(MemorySegment w, long offset, long gap, MemorySegment scales, ActivationRows x,
            int row, float[] lanes, float[] out, int o, int outGap) {
        int n = x.width();
        int blocks = n / BLOCK;
        float[] v = x.q8Values;
        int e = row * n;
        long o0 = offset;
        long o1 = offset + gap;
        long o2 = offset + 2 * gap;
        long o3 = offset + 3 * gap;
        long s0 = o0 / BLOCK_BYTES * Float.BYTES;
        long s1 = o1 / BLOCK_BYTES * Float.BYTES;
        long s2 = o2 / BLOCK_BYTES * Float.BYTES;
        long s3 = o3 / BLOCK_BYTES * Float.BYTES;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int b = 0; b < blocks; b++) {
            int k = e + BLOCK * b;
            FloatVector x0 = FloatVector.fromArray(F, v, k);
            FloatVector x1 = FloatVector.fromArray(F, v, k + 16);
            long p0 = o0 + (long) BLOCK_BYTES * b;
            FloatVector d0 = FloatVector.broadcast(F, scales != null ? scales.get(F32, s0 + (long) Float.BYTES * b)
                    : Float.float16ToFloat(w.get(I16, p0)));
            acc0 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p0 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d0).fma(x0, acc0));
            long p1 = o1 + (long) BLOCK_BYTES * b;
            FloatVector d1 = FloatVector.broadcast(F, scales != null ? scales.get(F32, s1 + (long) Float.BYTES * b)
                    : Float.float16ToFloat(w.get(I16, p1)));
            acc1 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p1 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d1).fma(x0, acc1));
            long p2 = o2 + (long) BLOCK_BYTES * b;
            FloatVector d2 = FloatVector.broadcast(F, scales != null ? scales.get(F32, s2 + (long) Float.BYTES * b)
                    : Float.float16ToFloat(w.get(I16, p2)));
            acc2 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d2).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p2 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d2).fma(x0, acc2));
            long p3 = o3 + (long) BLOCK_BYTES * b;
            FloatVector d3 = FloatVector.broadcast(F, scales != null ? scales.get(F32, s3 + (long) Float.BYTES * b)
                    : Float.float16ToFloat(w.get(I16, p3)));
            acc3 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d3).fma(x1,
                    ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p3 + 2, LE)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d3).fma(x0, acc3));
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 16);
        acc2.intoArray(lanes, 32);
        acc3.intoArray(lanes, 48);
        for (int j = 0; j < 4; j++) {
            out[o + j * outGap] = Simd.sum16(lanes, 16 * j);
        }
    }

    /**
     * Batches of up to {@value #MAX_TOKEN_ROWS} tokens multiply token by token (see the class comment); from 10 on,
     * {@link BlockGemm} is as fast or faster.
     */
    @Override
    public int maxTokenRows() {
        return MAX_TOKEN_ROWS;
    }

    /**
     * Rows of {@value #WIDE} elements or more: each block converted once, then multiplied with the four tokens in
     * {@link #dotWide}'s order. Shorter rows: {@link #dot} for each token.
     */
    @Override
    public void dotTokens4(MemorySegment w, long offset, ActivationRows x, int t0, float[] lanes, float[] out,
            int outIndex, int outStride) {
        int n = x.width();
        if (n < WIDE) {
            for (int j = 0; j < 4; j++) {
                out[(t0 + j) * outStride + outIndex] = dot(w, offset, x, t0 + j, lanes);
            }
            return;
        }
        int blocks = n / BLOCK;
        float[] v = x.q8Values;
        int e0 = t0 * n;
        int e1 = e0 + n;
        int e2 = e1 + n;
        int e3 = e2 + n;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int b = 0; b < blocks; b++) {
            long p = offset + (long) BLOCK_BYTES * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(w.get(I16, p)));
            FloatVector w0 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d);
            FloatVector w1 = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(d);
            int k = BLOCK * b;
            acc0 = w1.fma(FloatVector.fromArray(F, v, e0 + k + 16), w0.fma(FloatVector.fromArray(F, v, e0 + k), acc0));
            acc1 = w1.fma(FloatVector.fromArray(F, v, e1 + k + 16), w0.fma(FloatVector.fromArray(F, v, e1 + k), acc1));
            acc2 = w1.fma(FloatVector.fromArray(F, v, e2 + k + 16), w0.fma(FloatVector.fromArray(F, v, e2 + k), acc2));
            acc3 = w1.fma(FloatVector.fromArray(F, v, e3 + k + 16), w0.fma(FloatVector.fromArray(F, v, e3 + k), acc3));
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 16);
        acc2.intoArray(lanes, 32);
        acc3.intoArray(lanes, 48);
        for (int j = 0; j < 4; j++) {
            out[(t0 + j) * outStride + outIndex] = Simd.sum16(lanes, 16 * j);
        }
    }

    @Override
    public boolean blockProduct() {
        return true;
    }

    /** Shorter rows keep ggml's arithmetic in batches too (the test models, see the class comment). */
    @Override
    public int blockMinWidth() {
        return WIDE;
    }

    /**
     * Four rows block by block, each block of the four in turn: the core then reads four streams of memory at once,
     * which it does faster than one row after the other (the hardware prefetcher starts over at every page). One
     * thread expanding 12-row panels of a 285 MB matrix: 3.2–3.7 against 3.9–4.1 µs a panel; 16 tokens through
     * {@link BlockGemm}, two threads: 162–172 against 153–164 GFLOP/s (alternated runs). With a loop of its own for
     * each panel form (a loop storing to either ran at 5.0 ns a block in cache, against 3.6): 165–170 against
     * 147–159 GFLOP/s, and 16 server streams of the 1B shape 60.4–64.2 against 54.4–58.7 tok/s (alternated).
     */
    @Override
    public void toBlockPanel4(MemorySegment w, long offset, long gap, int n, float[] panel, long[] pairs, int r,
            int rowGap) {
        // one loop for each panel form, toBlock inlined into each with its form known (null passed, or pairs
        // checked): a loop that stores to either compiles to about half the speed
        int blocks = n / BLOCK;
        if (pairs != null) {
            for (int b = 0; b < blocks; b++) {
                for (int j = 0; j < 4; j++) {
                    toBlock(w, offset + j * gap + (long) BLOCK_BYTES * b, null, 0, pairs,
                            BlockGemm.pairAt(b, r + j * rowGap));
                }
            }
        } else {
            for (int b = 0; b < blocks; b++) {
                for (int j = 0; j < 4; j++) {
                    toBlock(w, offset + j * gap + (long) BLOCK_BYTES * b, panel, BlockGemm.at(b, r + j * rowGap), null, 0);
                }
            }
        }
    }

    @Override
    public void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, long[] pairs, int r) {
        for (int b = 0; b < n / BLOCK; b++) {
            toBlock(w, offset + (long) BLOCK_BYTES * b, panel, BlockGemm.at(b, r), pairs, BlockGemm.pairAt(b, r));
        }
    }

    /**
     * The block at byte {@code p} as its 32 values, quant times scale (exact: an 8-bit quant times an fp16 scale needs
     * 19 bits), into {@code panel[o ..]}, or where {@code pairs} is not null two to a long into {@code pairs[po ..]}.
     * Arrays in and out, so that it inlines without vectors crossing a call (see {@link Simd}).
     */
    private static void toBlock(MemorySegment w, long p, float[] panel, int o, long[] pairs, int po) {
        float d = Float.float16ToFloat(w.get(I16, p));
        FloatVector low = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 2, LE)
                .convertShape(VectorOperators.B2F, F, 0)).mul(d);
        FloatVector high = ((FloatVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w, p + 18, LE)
                .convertShape(VectorOperators.B2F, F, 0)).mul(d);
        if (pairs != null) {
            low.reinterpretAsLongs().intoArray(pairs, po);
            high.reinterpretAsLongs().intoArray(pairs, po + 8);
        } else {
            low.intoArray(panel, o);
            high.intoArray(panel, o + 16);
        }
    }
}
