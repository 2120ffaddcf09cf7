package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.I16;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

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
    public void prepare(ActivationRows x, ProductPath path) {
        x.rounded(GgmlType.F16);
        if (path == ProductPath.BLOCK) {
            x.prepareTiles(GgmlType.F16);
        }
    }

    /** One 16-lane fused multiply-add chain over the row, then a halving sum. */
    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        float[] a = x.rounded;
        int xo = row * n;
        FloatVector acc = FloatVector.zero(F);
        int vectors = n & ~15;
        for (int i = 0; i < vectors; i += 16) {
            IntVector h = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, offset + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            // fp16 -> f32 exactly: rebias the exponent 15 -> 127; a subnormal is built as 2^-14 (1 + m/1024), then
            // 2^-14 is taken away (no float arithmetic on subnormal inputs, which takes a slow path)
            IntVector magnitude = h.and(0x7fff);
            VectorMask<Integer> subnormal = magnitude.compare(VectorOperators.LT, 0x400);
            FloatVector value = magnitude.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, subnormal)
                    .reinterpretAsFloats().sub(0x1p-14f, subnormal.cast(F))
                    .reinterpretAsInts().or(h.and(0x80000000)).reinterpretAsFloats();
            acc = value.fma(FloatVector.fromArray(F, a, xo + i), acc);
        }
        acc.intoArray(lanes, 0);
        float s = Simd.sum16(lanes, 0);
        for (int i = vectors; i < n; i++) {
            s += Float.float16ToFloat(w.get(I16, offset + 2L * i)) * a[xo + i];
        }
        return s;
    }

    /**
     * Eight rows at once: decode reads eight streams of memory per core. A 65536 × 2048 F16 matrix on two threads of
     * a 2-core Xeon (Emerald Rapids) streamed 23.6–31.2 GB/s against 20.2–27.3 with the four-row kernel this
     * replaced (alternated in one process), and the 1B shape decoded at 9.37–9.41 against 8.77–8.96 tok/s; sixteen
     * rows ran slower (24–26 GB/s). The work between the loads sets the rate from memory: read the same way, an integer
     * add per load streams within 5 % of the probe's rate, four vector operations per 16 values (a stand-in for a hardware fp16
     * conversion) at 84 % of it, this kernel's nine at 77 % (bench's {@code StreamWorkBenchmark}); the exact conversion
     * cannot lose its subnormal correction, and the Vector API has no fp16 conversion.
     */
    @Override
    public int decodeStreams() {
        return 8;
    }

    /** {@link #dot} of eight rows at once (see {@link #decodeStreams}), sharing the loads of the activations. */
    @Override
    public void dot8(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        int n = x.width();
        float[] a = x.rounded;
        int xo = row * n;
        long o0 = offset + 0 * gap;
        long o1 = offset + 1 * gap;
        long o2 = offset + 2 * gap;
        long o3 = offset + 3 * gap;
        long o4 = offset + 4 * gap;
        long o5 = offset + 5 * gap;
        long o6 = offset + 6 * gap;
        long o7 = offset + 7 * gap;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        FloatVector acc2 = FloatVector.zero(F);
        FloatVector acc3 = FloatVector.zero(F);
        FloatVector acc4 = FloatVector.zero(F);
        FloatVector acc5 = FloatVector.zero(F);
        FloatVector acc6 = FloatVector.zero(F);
        FloatVector acc7 = FloatVector.zero(F);
        int vectors = n & ~15;
        for (int i = 0; i < vectors; i += 16) {
            FloatVector xv = FloatVector.fromArray(F, a, xo + i);
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o0 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            IntVector m0 = h0.and(0x7fff);
            VectorMask<Integer> sub0 = m0.compare(VectorOperators.LT, 0x400);
            acc0 = m0.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, sub0)
                    .reinterpretAsFloats().sub(0x1p-14f, sub0.cast(F))
                    .reinterpretAsInts().or(h0.and(0x80000000)).reinterpretAsFloats().fma(xv, acc0);
            IntVector h1 = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o1 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            IntVector m1 = h1.and(0x7fff);
            VectorMask<Integer> sub1 = m1.compare(VectorOperators.LT, 0x400);
            acc1 = m1.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, sub1)
                    .reinterpretAsFloats().sub(0x1p-14f, sub1.cast(F))
                    .reinterpretAsInts().or(h1.and(0x80000000)).reinterpretAsFloats().fma(xv, acc1);
            IntVector h2 = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o2 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            IntVector m2 = h2.and(0x7fff);
            VectorMask<Integer> sub2 = m2.compare(VectorOperators.LT, 0x400);
            acc2 = m2.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, sub2)
                    .reinterpretAsFloats().sub(0x1p-14f, sub2.cast(F))
                    .reinterpretAsInts().or(h2.and(0x80000000)).reinterpretAsFloats().fma(xv, acc2);
            IntVector h3 = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o3 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            IntVector m3 = h3.and(0x7fff);
            VectorMask<Integer> sub3 = m3.compare(VectorOperators.LT, 0x400);
            acc3 = m3.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, sub3)
                    .reinterpretAsFloats().sub(0x1p-14f, sub3.cast(F))
                    .reinterpretAsInts().or(h3.and(0x80000000)).reinterpretAsFloats().fma(xv, acc3);
            IntVector h4 = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o4 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            IntVector m4 = h4.and(0x7fff);
            VectorMask<Integer> sub4 = m4.compare(VectorOperators.LT, 0x400);
            acc4 = m4.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, sub4)
                    .reinterpretAsFloats().sub(0x1p-14f, sub4.cast(F))
                    .reinterpretAsInts().or(h4.and(0x80000000)).reinterpretAsFloats().fma(xv, acc4);
            IntVector h5 = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o5 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            IntVector m5 = h5.and(0x7fff);
            VectorMask<Integer> sub5 = m5.compare(VectorOperators.LT, 0x400);
            acc5 = m5.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, sub5)
                    .reinterpretAsFloats().sub(0x1p-14f, sub5.cast(F))
                    .reinterpretAsInts().or(h5.and(0x80000000)).reinterpretAsFloats().fma(xv, acc5);
            IntVector h6 = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o6 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            IntVector m6 = h6.and(0x7fff);
            VectorMask<Integer> sub6 = m6.compare(VectorOperators.LT, 0x400);
            acc6 = m6.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, sub6)
                    .reinterpretAsFloats().sub(0x1p-14f, sub6.cast(F))
                    .reinterpretAsInts().or(h6.and(0x80000000)).reinterpretAsFloats().fma(xv, acc6);
            IntVector h7 = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o7 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0);
            IntVector m7 = h7.and(0x7fff);
            VectorMask<Integer> sub7 = m7.compare(VectorOperators.LT, 0x400);
            acc7 = m7.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, sub7)
                    .reinterpretAsFloats().sub(0x1p-14f, sub7.cast(F))
                    .reinterpretAsInts().or(h7.and(0x80000000)).reinterpretAsFloats().fma(xv, acc7);
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
            long at = offset + j * gap;
            float s = Simd.sum16(lanes, 16 * j);
            for (int i = vectors; i < n; i++) {
                s += Float.float16ToFloat(w.get(I16, at + 2L * i)) * a[xo + i];
            }
            out[o + j * outGap] = s;
        }
    }

    @Override
    public boolean blockProduct() {
        return true;
    }

    @Override
    public void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, long[] pairs, int r) {
        int vectors = n & ~15;
        for (int i = 0; i < vectors; i += 16) {
            // elements i..i+15 are half a block: block i / 32, at position i % 32
            toFloats(w, offset + 2L * i, panel, BlockGemm.at(i >> 5, r) + (i & 31), pairs,
                    BlockGemm.pairAt(i >> 5, r) + (i & 31) / 2);
        }
        for (int i = vectors; i < n; i++) {
            BlockGemm.put(panel, pairs, i >> 5, r, i & 31, Float.float16ToFloat(w.get(I16, offset + 2L * i)));
        }
        BlockGemm.padRow(n, panel, pairs, r);
    }

    /**
     * Four rows element by element (see {@link WeightKernel#toBlockPanel4}), in a loop of its own for each panel form;
     * the elements past the last whole 16 and the padding as {@link #toBlockPanel}. The 1B shape, alternating
     * {@code CpuBenchmark} runs: a 16-token prompt 66.0 / 67.8 against 54.3 / 53.4 tok/s, prefill-128 110.6–116.2 against
     * 103.7–110.1 (one run 99.2).
     */
    @Override
    public void toBlockPanel4(MemorySegment w, long offset, long gap, int n, float[] panel, long[] pairs, int r,
            int rowGap) {
        int vectors = n & ~15;
        // toFloats inlines into each loop with its choice of form known (null passed, or pairs checked)
        if (pairs != null) {
            for (int i = 0; i < vectors; i += 16) {
                for (int j = 0; j < 4; j++) {
                    toFloats(w, offset + j * gap + 2L * i, null, 0, pairs,
                            BlockGemm.pairAt(i >> 5, r + j * rowGap) + (i & 31) / 2);
                }
            }
        } else {
            for (int i = 0; i < vectors; i += 16) {
                for (int j = 0; j < 4; j++) {
                    toFloats(w, offset + j * gap + 2L * i, panel, BlockGemm.at(i >> 5, r + j * rowGap) + (i & 31), null, 0);
                }
            }
        }
        for (int j = 0; j < 4; j++) {
            long at = offset + j * gap;
            for (int i = vectors; i < n; i++) {
                BlockGemm.put(panel, pairs, i >> 5, r + j * rowGap, i & 31, Float.float16ToFloat(w.get(I16, at + 2L * i)));
            }
            BlockGemm.padRow(n, panel, pairs, r + j * rowGap);
        }
    }

    /**
     * The 16 fp16 values at byte {@code at} as floats into {@code dst[o .. o + 16)}, or where {@code pairs} is not
     * null two to a long into {@code pairs[po .. po + 8)}, exactly: the exponent is rebiased 15 -> 127; a subnormal
     * is built as 2^-14 (1 + m/1024), then 2^-14 is taken away (no float arithmetic on subnormal inputs, which takes a
     * slow path). Arrays in and out, so that it inlines without vectors crossing a call (see {@link Simd}).
     */
    private static void toFloats(MemorySegment w, long at, float[] dst, int o, long[] pairs, int po) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, at, LE)
                .convertShape(VectorOperators.S2I, Simd.I, 0);
        IntVector magnitude = h.and(0x7fff);
        VectorMask<Integer> subnormal = magnitude.compare(VectorOperators.LT, 0x400);
        IntVector bits = magnitude.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, subnormal)
                .reinterpretAsFloats().sub(0x1p-14f, subnormal.cast(F))
                .reinterpretAsInts().or(h.and(0x80000000));
        if (pairs != null) {
            bits.reinterpretAsLongs().intoArray(pairs, po);
        } else {
            bits.reinterpretAsFloats().intoArray(dst, o);
        }
    }
}
