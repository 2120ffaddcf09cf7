package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.I16;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Float16;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

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
    public void prepare(ActivationRows x, ProductPath path) {
        x.rounded(GgmlType.BF16);
        if (path == ProductPath.BLOCK) {
            x.prepareTiles(GgmlType.BF16);
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
            FloatVector value = ((IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, offset + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            acc = value.fma(FloatVector.fromArray(F, a, xo + i), acc);
        }
        acc.intoArray(lanes, 0);
        float s = Simd.sum16(lanes, 0);
        for (int i = vectors; i < n; i++) {
            s += Float16.bf16ToFloat(w.get(I16, offset + 2L * i)) * a[xo + i];
        }
        return s;
    }

    /** {@link #dot} of four rows at once (see {@link WeightKernel#dot4}), sharing the loads of the activations. */
    @Override
    public void dot4(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        int n = x.width();
        float[] a = x.rounded;
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
            acc0 = ((IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o0 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, acc0);
            acc1 = ((IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o1 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, acc1);
            acc2 = ((IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o2 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, acc2);
            acc3 = ((IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, o3 + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, acc3);
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 16);
        acc2.intoArray(lanes, 32);
        acc3.intoArray(lanes, 48);
        for (int j = 0; j < 4; j++) {
            long at = offset + j * gap;
            float s = Simd.sum16(lanes, 16 * j);
            for (int i = vectors; i < n; i++) {
                s += Float16.bf16ToFloat(w.get(I16, at + 2L * i)) * a[xo + i];
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
            FloatVector value = ((IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, offset + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            // elements i..i+15 are half a block: block i / 32, at position i % 32
            if (pairs != null) {
                value.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(i >> 5, r) + (i & 31) / 2);
            } else {
                value.intoArray(panel, BlockGemm.at(i >> 5, r) + (i & 31));
            }
        }
        for (int i = vectors; i < n; i++) {
            BlockGemm.put(panel, pairs, i >> 5, r, i & 31, Float16.bf16ToFloat(w.get(I16, offset + 2L * i)));
        }
        BlockGemm.padRow(n, panel, pairs, r);
    }
}
