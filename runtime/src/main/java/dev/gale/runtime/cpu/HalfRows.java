package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.I16;

import dev.gale.model.tensor.Float16;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * The loops of the F16 and BF16 kernels, which differ only in how a 16-bit value widens to a float. Callers pass
 * {@code bf16} as a constant, so the JIT compiles a specialised copy into each.
 */
final class HalfRows {
    private HalfRows() {}

    /** One 16-lane fused multiply-add chain over the row, then a halving sum (tinyBLAS's order). */
    static float dot(MemorySegment w, long offset, float[] a, int xo, int n, boolean bf16) {
        FloatVector acc = FloatVector.zero(F);
        int vectors = n & ~15;
        for (int i = 0; i < vectors; i += 16) {
            acc = widen(w, offset + 2L * i, bf16).fma(FloatVector.fromArray(F, a, xo + i), acc);
        }
        float s = Simd.sum(acc);
        for (int i = vectors; i < n; i++) {
            s += widen(w.get(I16, offset + 2L * i), bf16) * a[xo + i];
        }
        return s;
    }

    static void toFloats(MemorySegment w, long offset, float[] dst, int dstOffset, int n, boolean bf16) {
        int vectors = n & ~15;
        for (int i = 0; i < vectors; i += 16) {
            widen(w, offset + 2L * i, bf16).intoArray(dst, dstOffset + i);
        }
        for (int i = vectors; i < n; i++) {
            dst[dstOffset + i] = widen(w.get(I16, offset + 2L * i), bf16);
        }
    }

    private static FloatVector widen(MemorySegment w, long offset, boolean bf16) {
        return bf16 ? Simd.bf16ToFloat(w, offset) : Simd.halfToFloat(w, offset);
    }

    private static float widen(short bits, boolean bf16) {
        return bf16 ? Float16.bf16ToFloat(bits) : Float.float16ToFloat(bits);
    }
}
