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
    public void prepare(ActivationRows x, boolean batched) {
        x.rounded(GgmlType.BF16);
        if (batched) {
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

    @Override
    public boolean blockProduct() {
        return true;
    }

    @Override
    public void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, float[] scales, int r) {
        int vectors = n & ~15;
        for (int i = 0; i < vectors; i += 16) {
            FloatVector value = ((IntVector) ShortVector.fromMemorySegment(Simd.S_HALF, w, offset + 2L * i, LE)
                    .convertShape(VectorOperators.S2I, Simd.I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            // elements i..i+15 are half a block: block i / 32, at position i % 32
            value.intoArray(panel, ((i >> 5) * BlockGemm.ROWS + r) * BlockGemm.BLOCK + (i & 31));
        }
        for (int i = vectors; i < n; i++) {
            panel[((i >> 5) * BlockGemm.ROWS + r) * BlockGemm.BLOCK + (i & 31)] = Float16.bf16ToFloat(w.get(I16, offset + 2L * i));
        }
        BlockGemm.padRow(n, panel, scales, r);
    }
}
