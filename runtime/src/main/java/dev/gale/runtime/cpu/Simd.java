package dev.gale.runtime.cpu;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector species and scalar helpers of the weight kernels. The kernels are written for AVX-512: 512-bit vectors
 * (16 float lanes), plus 256-bit ones where ggml's 8-lane order is mirrored. On hardware without 512-bit vectors the
 * Vector API would compute them without intrinsics, far more slowly; {@link MatMul} then uses
 * {@link PortableKernel} instead.
 *
 * <p>There are deliberately no helpers here that take or return vectors: a kernel's vector code is written out in
 * the kernel. Such a helper, once compiled on its own (large, with its vectors as objects), is no longer inlined
 * into the kernels that call it, and every call then allocates its vectors.
 */
final class Simd {
    private Simd() {}

    /**
     * Whether the hardware has 512-bit vectors, so the vector kernels compile to vector instructions (the system
     * property {@code gale.cpu.portable=true} turns them off).
     */
    static final boolean WIDE_VECTORS = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 512
            && !Boolean.getBoolean("gale.cpu.portable");

    /**
     * The first index of a {@code float[]} whose element lies on a 64-byte boundary, where the JVM places every
     * object on one ({@code -XX:ObjectAlignmentInBytes=64}, which Gale's launchers pass); else 0, as an array's data
     * then lies wherever the allocator put it. The arrays that the batched kernels read and write 16 floats at a time
     * are allocated this much longer and used from here, so that no 512-bit load or store straddles two cache lines
     * (a straddling access costs two: on this project's AVX-512 machine {@link BlockGemm}'s pair of tiles ran
     * 87–89 GFLOP/s on one thread with its activations and sums straddling, 96–99 aligned).
     */
    static final int ALIGNED_FLOATS = alignedFloats();

    /**
     * The first index of a {@code long[]} whose element lies on a 64-byte boundary under the same flag (a long
     * array's data starts 16 bytes in with either header layout), else 0: {@link BlockGemm}'s panels of pairs.
     */
    static final int ALIGNED_LONGS = ALIGNED_FLOATS == 0 ? 0 : (64 - 16) / Long.BYTES;

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
     * The sum of {@code a[o .. o + 16)} added as a halving tree (lanes i and i + 8, then i and i + 4, ...): the order
     * of x86's _mm512_reduce_add_ps, which ggml's tinyBLAS uses, so that equal lanes give bit-equal sums. Kernels
     * store their accumulator to a scratch array and sum it here.
     */
    static float sum16(float[] a, int o) {
        float u0 = (a[o] + a[o + 8]) + (a[o + 4] + a[o + 12]);
        float u1 = (a[o + 1] + a[o + 9]) + (a[o + 5] + a[o + 13]);
        float u2 = (a[o + 2] + a[o + 10]) + (a[o + 6] + a[o + 14]);
        float u3 = (a[o + 3] + a[o + 11]) + (a[o + 7] + a[o + 15]);
        return (u0 + u2) + (u1 + u3);
    }

    /**
     * 64-byte object alignment and the offset of a float array's first element: after a 12-byte header with compact
     * object headers, 16 with compressed class pointers (the default; both measured, see {@link #ALIGNED_FLOATS});
     * 0 for any other layout, which was not.
     */
    private static int alignedFloats() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (vm == null || Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue()) % 64 != 0) {
                return 0;
            }
            if (flag(vm, "UseCompactObjectHeaders")) {
                return (64 - 12) / Float.BYTES;
            }
            return flag(vm, "UseCompressedClassPointers") ? (64 - 16) / Float.BYTES : 0;
        } catch (RuntimeException | LinkageError e) {
            return 0; // not HotSpot, or no management: no alignment known
        }
    }

    private static boolean flag(HotSpotDiagnosticMXBean vm, String name) {
        try {
            VMOption option = vm.getVMOption(name);
            return Boolean.parseBoolean(option.getValue());
        } catch (IllegalArgumentException e) {
            return false; // a flag this JVM does not have
        }
    }

    /** The sum of {@code a[o .. o + 8)} as a halving tree (ggml's hsum of an __m256). */
    static float sum8(float[] a, int o) {
        return ((a[o] + a[o + 4]) + (a[o + 2] + a[o + 6])) + ((a[o + 1] + a[o + 5]) + (a[o + 3] + a[o + 7]));
    }
}
