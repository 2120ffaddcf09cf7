package dev.gale.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector species and the conversions the weight kernels share. The kernels are written for AVX-512: 512-bit
 * vectors (16 float lanes), plus 256-bit ones where ggml's 8-lane order is mirrored. On hardware without 512-bit
 * vectors the Vector API would compute them without intrinsics, far more slowly; {@link MatMul} then uses
 * {@link PortableKernel} instead.
 */
final class Simd {
    private Simd() {}

    /**
     * Whether the hardware has 512-bit vectors, so the vector kernels compile to vector instructions (the system
     * property {@code gale.cpu.portable=true} turns them off).
     */
    static final boolean WIDE_VECTORS = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            && !Boolean.getBoolean("gale.cpu.portable");

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    static final VectorSpecies<Float> F_HALF = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
    static final VectorSpecies<Short> S_HALF = ShortVector.SPECIES_256;
    static final VectorSpecies<Byte> B_HALF = ByteVector.SPECIES_256;
    static final VectorSpecies<Byte> B_QUARTER = ByteVector.SPECIES_128;

    /**
     * 16 fp16 values at byte {@code offset} as floats, exactly (subnormals included, without the slow path that
     * float arithmetic on subnormal inputs takes). fp16 infinities and NaNs are not expected in weights.
     */
    static FloatVector halfToFloat(MemorySegment seg, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S_HALF, seg, offset, LE)
                .convertShape(VectorOperators.S2I, I, 0);
        IntVector magnitude = h.and(0x7fff);
        VectorMask<Integer> subnormal = magnitude.compare(VectorOperators.LT, 0x400);
        // exponent rebias 15 -> 127; a subnormal is built as 2^-14 · (1 + m/1024) and 2^-14 is then taken away
        IntVector bits = magnitude.lanewise(VectorOperators.LSHL, 13).add(0x38000000).add(0x00800000, subnormal);
        FloatVector abs = bits.reinterpretAsFloats().sub(0x1p-14f, subnormal.cast(F));
        return abs.reinterpretAsInts().or(h.and(0x80000000)).reinterpretAsFloats();
    }

    /** 16 bf16 values at byte {@code offset} as floats. */
    static FloatVector bf16ToFloat(MemorySegment seg, long offset) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S_HALF, seg, offset, LE)
                .convertShape(VectorOperators.S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * The sum of {@code a[o .. o + 16)} added as a halving tree (lanes i and i + 8, then i and i + 4, ...): the order
     * of x86's _mm512_reduce_add_ps, which ggml's tinyBLAS uses, so that equal lanes give bit-equal sums. Kernels
     * store their accumulator to a scratch array and sum it here: a helper taking a vector could fail to inline
     * in a large method, and then every call would box its argument.
     */
    static float sum16(float[] a, int o) {
        float u0 = (a[o] + a[o + 8]) + (a[o + 4] + a[o + 12]);
        float u1 = (a[o + 1] + a[o + 9]) + (a[o + 5] + a[o + 13]);
        float u2 = (a[o + 2] + a[o + 10]) + (a[o + 6] + a[o + 14]);
        float u3 = (a[o + 3] + a[o + 11]) + (a[o + 7] + a[o + 15]);
        return (u0 + u2) + (u1 + u3);
    }

    /** The sum of {@code a[o .. o + 8)} as a halving tree (ggml's hsum of an __m256). */
    static float sum8(float[] a, int o) {
        return ((a[o] + a[o + 4]) + (a[o + 2] + a[o + 6])) + ((a[o + 1] + a[o + 5]) + (a[o + 3] + a[o + 7]));
    }

    /**
     * Sums each run of 4 adjacent 16-bit lanes of {@code products} (32 lanes) into 8 float lanes, exactly: the
     * 32-bit lanes of x86's vpdpbusd / pmaddubsw+pmaddwd, as ggml's Q8_0 dot products form them.
     */
    static FloatVector quadSums(ShortVector products) {
        LongVector v = pairSums(products).reinterpretAsLongs();
        return (FloatVector) v.add(v.lanewise(VectorOperators.LSHL, 32)).lanewise(VectorOperators.ASHR, 32)
                .convertShape(VectorOperators.L2F, F_HALF, 0);
    }

    /**
     * Adds each pair of adjacent 16-bit lanes of {@code products} into one 32-bit lane (as x86's pmaddwd does after
     * its multiply). Exact while every pair sum fits in 16 bits.
     */
    static IntVector pairSums(ShortVector products) {
        IntVector v = products.reinterpretAsInts();
        return v.add(v.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }
}
