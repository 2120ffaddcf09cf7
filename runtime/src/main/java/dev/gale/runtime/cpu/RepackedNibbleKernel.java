package dev.gale.runtime.cpu;

import static dev.gale.runtime.cpu.Simd.F;
import static dev.gale.runtime.cpu.Simd.F32;
import static dev.gale.runtime.cpu.Simd.I16;
import static dev.gale.runtime.cpu.Simd.LE;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.KQuants;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * 4-bit weights in the repacked layout of {@link RepackedMatrices}: Q4_0, and Q4_K read as blocks of 32. A row is its
 * blocks' 16 bytes of nibbles (the low nibble of byte p is element p, the high nibble element p + 16), then the
 * blocks' scales as floats, then, for Q4_K, the blocks' minimums as floats (negated). A Q4_0 block is the file's
 * (nibbles stored +8, value d·(q − 8), its fp16 scale widened); a Q4_K super-block of 256 becomes 8 blocks, each
 * with the value d·sc·q − dmin·m of ggml, its scale d·sc and minimum dmin·m exact in float (an fp16 times a 6-bit
 * integer). The nibble bytes of each whole group of {@value #GROUP} blocks are transposed: byte p of the group's
 * block j lies at {@code 32 p + j} of the group's 512 bytes, so that one 32-byte load holds byte p of 32 blocks, one
 * block per lane. Blocks after the last whole group keep the plain order.
 *
 * <p>Decode on a group multiplies those lanes, as 16-bit integers, with the activation's Q8_0 quants laid out the
 * same way ({@link ActivationRows#q8Groups}), and adds each block's products in its own lane: with the nibbles
 * unsigned, 16 products are at most 16 × 15 × 127 = 30480, so the low and the high nibbles' sums each fit 16 bits.
 * After the group, the two sums are widened, Q4_0's +8 is taken off exactly (8 × the block's activation quant sum),
 * and the 32 exact block sums are multiplied by the product of the block scales and added in float. For Q4_0 this is
 * ggml's integer arithmetic block by block, about three times as fast per core as {@link Q4_0Kernel}; only the order
 * of the float additions differs. The blocks after the last whole group take {@link Q4_0Kernel}'s arithmetic, so a
 * Q4_0 row shorter than a group (the test models) gives ggml's result bit for bit. Q4_K's minimums add one term,
 * the sum over blocks of minimum × activation scale × activation quant sum: two more fused multiply-adds into the
 * 16 lanes after each group ({@link #minimumTail} for the blocks after the last one). Q4_K is thus multiplied with
 * Q8_0 activations (a scale per 32 elements) instead of ggml's Q8_K (one per 256): the products differ from
 * llama.cpp's by the activation rounding, not in exactness.
 */
final class RepackedNibbleKernel implements WeightKernel {
    static final RepackedNibbleKernel Q4_0 = new RepackedNibbleKernel(GgmlType.Q4_0, 8, false);
    static final RepackedNibbleKernel Q4_K = new RepackedNibbleKernel(GgmlType.Q4_K, 0, true);
    static final int BLOCK = 32;
    /** Blocks of a transposed group: the 16-bit lanes of a 512-bit vector. */
    static final int GROUP = 32;
    /** Bytes of a block's nibbles. */
    static final int NIBBLE_BYTES = BLOCK / 2;
    /** Q4_0's bias 8 as a shift: 8 × a block's quant sum, exactly. */
    private static final int BIAS_SHIFT = 3;

    private final GgmlType type;
    /** What the nibbles are stored above their value: 8 for Q4_0, 0 for Q4_K. */
    private final int bias;
    /** Whether rows end with the blocks' (negated) minimums: Q4_K. */
    private final boolean minimums;

    private RepackedNibbleKernel(GgmlType type, int bias, boolean minimums) {
        if (bias != 0 && bias != 1 << BIAS_SHIFT) {
            throw new IllegalArgumentException("bias " + bias);
        }
        this.type = type;
        this.bias = bias;
        this.minimums = minimums;
    }

    /** The kernel that repacks {@code type}, or null if none does. */
    static RepackedNibbleKernel forType(GgmlType type) {
        return switch (type) {
            case Q4_0 -> Q4_0;
            case Q4_K -> Q4_K;
            default -> null;
        };
    }

    /** Bytes of a repacked row of {@code n} elements: 20 a block (Q4_0) or 24 (Q4_K). */
    long rowBytes(int n) {
        return (long) n / BLOCK * (NIBBLE_BYTES + Float.BYTES * (minimums ? 2 : 1));
    }

    /** The heap buffers {@link #repack} gathers a row and transposes a group through; one per thread. */
    static final class Scratch {
        final byte[] transposed = new byte[GROUP * NIBBLE_BYTES];
        /** The file's row, copied at once (many small copies from the mapping cost more than the repack). */
        byte[] source = new byte[0];
        byte[] nibbles = new byte[0];
        float[] scales = new float[0];
        float[] mins = new float[0];

        /** Copies the row's {@code bytes} file bytes at {@code src + srcOffset} to {@link #source}. */
        byte[] source(MemorySegment src, long srcOffset, long bytes) {
            if (source.length < bytes) {
                source = new byte[(int) bytes];
            }
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOffset, source, 0, (int) bytes);
            return source;
        }

        void ensure(int blocks) {
            if (scales.length < blocks) {
                nibbles = new byte[blocks * NIBBLE_BYTES];
                scales = new float[blocks];
                mins = new float[blocks];
            }
        }
    }

    /**
     * Rewrites the file's row at {@code src + srcOffset} ({@code n} elements, this kernel's type) at
     * {@code dst + dstOffset}; the row's nibbles are gathered, and each whole group transposed, on the heap through
     * {@code scratch}.
     */
    void repack(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int n, Scratch scratch) {
        int blocks = n / BLOCK;
        scratch.ensure(blocks);
        if (minimums) {
            readQ4_K(src, srcOffset, blocks, scratch);
        } else {
            readQ4_0(src, srcOffset, blocks, scratch);
        }
        byte[] nibbles = scratch.nibbles;
        byte[] transposed = scratch.transposed;
        int grouped = blocks / GROUP * GROUP;
        for (int b0 = 0; b0 < grouped; b0 += GROUP) {
            for (int j = 0; j < GROUP; j++) {
                int from = (b0 + j) * NIBBLE_BYTES;
                for (int i = 0; i < NIBBLE_BYTES; i++) {
                    transposed[GROUP * i + j] = nibbles[from + i];
                }
            }
            MemorySegment.copy(transposed, 0, dst, ValueLayout.JAVA_BYTE, dstOffset + (long) NIBBLE_BYTES * b0,
                    transposed.length);
        }
        MemorySegment.copy(nibbles, grouped * NIBBLE_BYTES, dst, ValueLayout.JAVA_BYTE,
                dstOffset + (long) NIBBLE_BYTES * grouped, (blocks - grouped) * NIBBLE_BYTES);
        long scales = dstOffset + (long) blocks * NIBBLE_BYTES;
        MemorySegment.copy(scratch.scales, 0, dst, F32, scales, blocks);
        if (minimums) {
            MemorySegment.copy(scratch.mins, 0, dst, F32, scales + (long) Float.BYTES * blocks, blocks);
        }
    }

    /** A Q4_0 row's nibble bytes and scales, as they are in the file. */
    private static void readQ4_0(MemorySegment file, long fileOffset, int blocks, Scratch scratch) {
        byte[] src = scratch.source(file, fileOffset, (long) Q4_0Kernel.BLOCK_BYTES * blocks);
        for (int b = 0; b < blocks; b++) {
            int at = Q4_0Kernel.BLOCK_BYTES * b;
            System.arraycopy(src, at + 2, scratch.nibbles, NIBBLE_BYTES * b, NIBBLE_BYTES);
            scratch.scales[b] = Float.float16ToFloat((short) ((src[at] & 0xFF) | src[at + 1] << 8));
        }
    }

    /**
     * A Q4_K row (super-blocks of 144 bytes: d, dmin, 12 bytes of packed 6-bit scales and mins, 128 bytes of nibbles
     * in which byte i of chunk g holds element i of sub-block 2g low and element i of sub-block 2g + 1 high) as
     * blocks of 32 in Q4_0's nibble order, with scale d·sc and negated minimum dmin·m.
     */
    private static void readQ4_K(MemorySegment file, long fileOffset, int blocks, Scratch scratch) {
        byte[] bytes = scratch.source(file, fileOffset, (long) GgmlType.Q4_K.blockBytes() * blocks / 8);
        MemorySegment src = MemorySegment.ofArray(bytes);
        byte[] nibbles = scratch.nibbles;
        for (int k = 0; k < blocks / 8; k++) {
            int p = GgmlType.Q4_K.blockBytes() * k;
            float d = Float.float16ToFloat(src.get(I16, p));
            float dmin = Float.float16ToFloat(src.get(I16, p + 2));
            long scales = KQuants.packedScales(src, p + 4);
            long mins = KQuants.packedMins(src, p + 4);
            for (int g = 0; g < 4; g++) {
                int chunk = p + 16 + BLOCK * g;
                int low = 8 * k + 2 * g;
                int high = low + 1;
                for (int i = 0; i < NIBBLE_BYTES; i++) {
                    byte first = bytes[chunk + i];
                    byte second = bytes[chunk + i + 16];
                    nibbles[NIBBLE_BYTES * low + i] = (byte) ((first & 15) | (second & 15) << 4);
                    nibbles[NIBBLE_BYTES * high + i] = (byte) ((first >> 4 & 15) | (second & 0xF0));
                }
                scratch.scales[low] = d * ((int) (scales >>> (16 * g)) & 0xFF);
                scratch.mins[low] = -(dmin * ((int) (mins >>> (16 * g)) & 0xFF));
                scratch.scales[high] = d * ((int) (scales >>> (16 * g + 8)) & 0xFF);
                scratch.mins[high] = -(dmin * ((int) (mins >>> (16 * g + 8)) & 0xFF));
            }
        }
    }

    @Override
    public GgmlType type() {
        return type;
    }

    @Override
    public void prepare(ActivationRows x, ProductPath path) {
        if (path == ProductPath.BLOCK) {
            x.prepareTiles(GgmlType.Q8_0);
        } else {
            x.prepareQ8_0Groups();
        }
    }

    @Override
    public float dot(MemorySegment w, long offset, ActivationRows x, int row, float[] lanes) {
        int n = x.width();
        int blocks = n / BLOCK;
        int groups = blocks / GROUP;
        int xb = row * blocks;
        long scales = offset + (long) blocks * NIBBLE_BYTES;
        short[] xg = x.q8Groups;
        int[] quantSums = x.q8QuantSums;
        float[] xs = x.q8Scale;
        float[] scaledSums = x.q8ScaledSums;
        int bias = this.bias;
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            ShortVector lo = ShortVector.zero(Simd.S);
            ShortVector hi = lo;
            long go = offset + (long) GROUP * NIBBLE_BYTES * g;
            int xo = row * n + GROUP * BLOCK * g;
            for (int p = 0; p < NIBBLE_BYTES; p++) {
                ShortVector bytes = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, go + (long) GROUP * p, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                lo = lo.add(bytes.and((short) 15).mul(ShortVector.fromArray(Simd.S, xg, xo + GROUP * p)));
                hi = hi.add(bytes.lanewise(VectorOperators.LSHR, 4)
                        .mul(ShortVector.fromArray(Simd.S, xg, xo + GROUP * (p + NIBBLE_BYTES))));
            }
            int b0 = xb + GROUP * g;
            long s0 = scales + (long) Float.BYTES * GROUP * g;
            IntVector sums = ((IntVector) lo.convertShape(VectorOperators.S2I, Simd.I, 0))
                    .add((IntVector) hi.convertShape(VectorOperators.S2I, Simd.I, 0));
            if (bias != 0) {
                sums = sums.sub(IntVector.fromArray(Simd.I, quantSums, b0).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc = FloatVector.fromMemorySegment(F, w, s0, LE).mul(FloatVector.fromArray(F, xs, b0))
                    .fma((FloatVector) sums.convert(VectorOperators.I2F, 0), acc);
            sums = ((IntVector) lo.convertShape(VectorOperators.S2I, Simd.I, 1))
                    .add((IntVector) hi.convertShape(VectorOperators.S2I, Simd.I, 1));
            if (bias != 0) {
                sums = sums.sub(IntVector.fromArray(Simd.I, quantSums, b0 + 16).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc = FloatVector.fromMemorySegment(F, w, s0 + 16 * Float.BYTES, LE).mul(FloatVector.fromArray(F, xs, b0 + 16))
                    .fma((FloatVector) sums.convert(VectorOperators.I2F, 0), acc);
            if (minimums) {
                long m0 = s0 + (long) Float.BYTES * blocks;
                acc = FloatVector.fromMemorySegment(F, w, m0, LE).fma(FloatVector.fromArray(F, scaledSums, b0), acc);
                acc = FloatVector.fromMemorySegment(F, w, m0 + 16 * Float.BYTES, LE)
                        .fma(FloatVector.fromArray(F, scaledSums, b0 + 16), acc);
            }
        }
        acc.intoArray(lanes, 0);
        float sum = Simd.sum16(lanes, 0);
        if (groups * GROUP != blocks) {
            sum += tail(w, offset, x, row, groups, lanes);
            if (minimums) {
                sum += minimumTail(w, offset, x, row, groups);
            }
        }
        return sum;
    }

    /**
     * Q4_K's minimums' part of the dot product of the row at {@code offset} with activation row {@code row} for the
     * blocks after its {@code groups} whole groups (the groups add theirs in their 16 lanes): the sum of each block's
     * (negated) minimum times the activation's scale × quant sum ({@link ActivationRows#q8ScaledSums}).
     */
    private static float minimumTail(MemorySegment w, long offset, ActivationRows x, int row, int groups) {
        int blocks = x.width() / BLOCK;
        long mins = offset + (long) blocks * (NIBBLE_BYTES + Float.BYTES);
        float[] scaledSums = x.q8ScaledSums;
        int xb = row * blocks;
        float sum = 0;
        for (int b = groups * GROUP; b < blocks; b++) {
            sum += w.get(F32, mins + (long) Float.BYTES * b) * scaledSums[xb + b];
        }
        return sum;
    }

    /**
     * The blocks of the row at {@code offset} after its {@code groups} whole groups, in {@link Q4_0Kernel}'s
     * arithmetic (ggml's: 8 lanes of exact 4-product sums).
     */
    private float tail(MemorySegment w, long offset, ActivationRows x, int row, int groups, float[] lanes) {
        int blocks = x.width() / BLOCK;
        int xb = row * blocks;
        long scales = offset + (long) blocks * NIBBLE_BYTES;
        float[] xs = x.q8Scale;
        short[] q = x.q8;
        FloatVector tail = FloatVector.zero(Simd.F_HALF);
        for (int b = groups * GROUP; b < blocks; b++) {
            ShortVector bytes = (ShortVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w,
                    offset + (long) NIBBLE_BYTES * b, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S_HALF, 0);
            ShortVector wq = ((ShortVector) bytes.and((short) 15).reinterpretShape(Simd.S, 0))
                    .or((ShortVector) bytes.lanewise(VectorOperators.LSHR, 4).reinterpretShape(Simd.S, -1))
                    .sub((short) bias);
            IntVector pairs = wq.mul(ShortVector.fromArray(Simd.S, q, (xb + b) * BLOCK)).reinterpretAsInts();
            LongVector quads = pairs.add(pairs.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16)
                    .reinterpretAsLongs();
            FloatVector sums4 = (FloatVector) quads.add(quads.lanewise(VectorOperators.LSHL, 32))
                    .lanewise(VectorOperators.ASHR, 32).convertShape(VectorOperators.L2F, Simd.F_HALF, 0);
            float d = w.get(F32, scales + (long) Float.BYTES * b) * xs[xb + b];
            tail = FloatVector.broadcast(Simd.F_HALF, d).fma(sums4, tail);
        }
        tail.intoArray(lanes, 0);
        return Simd.sum8(lanes, 0);
    }

    /**
     * {@link #dot} of four rows at once (see {@link WeightKernel#dot4}): the groups of the four rows are multiplied
     * together, sharing the activation's loads, so that a core has four streams of weights in flight; the blocks
     * after the last whole group go through {@link #dot}'s code. Bit for bit {@link #dot} of each row.
     */
    @Override
    public void dot4(MemorySegment w, long offset, long gap, ActivationRows x, int row, float[] lanes, float[] out,
            int o, int outGap) {
        int n = x.width();
        int blocks = n / BLOCK;
        int groups = blocks / GROUP;
        if (groups == 0) {
            WeightKernel.super.dot4(w, offset, gap, x, row, lanes, out, o, outGap);
            return;
        }
        int xb = row * blocks;
        long scaleOffset = (long) blocks * NIBBLE_BYTES;
        short[] xg = x.q8Groups;
        int[] quantSums = x.q8QuantSums;
        float[] xs = x.q8Scale;
        float[] scaledSums = x.q8ScaledSums;
        long o0 = offset;
        long o1 = offset + gap;
        long o2 = offset + 2 * gap;
        long o3 = offset + 3 * gap;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int g = 0; g < groups; g++) {
            ShortVector lo0 = ShortVector.zero(Simd.S);
            ShortVector hi0 = lo0;
            ShortVector lo1 = lo0;
            ShortVector hi1 = lo0;
            ShortVector lo2 = lo0;
            ShortVector hi2 = lo0;
            ShortVector lo3 = lo0;
            ShortVector hi3 = lo0;
            long go = (long) GROUP * NIBBLE_BYTES * g;
            int xo = row * n + GROUP * BLOCK * g;
            for (int p = 0; p < NIBBLE_BYTES; p++) {
                ShortVector xl = ShortVector.fromArray(Simd.S, xg, xo + GROUP * p);
                ShortVector xh = ShortVector.fromArray(Simd.S, xg, xo + GROUP * (p + NIBBLE_BYTES));
                long at = go + (long) GROUP * p;
                ShortVector b0 = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, o0 + at, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                lo0 = lo0.add(b0.and((short) 15).mul(xl));
                hi0 = hi0.add(b0.lanewise(VectorOperators.LSHR, 4).mul(xh));
                ShortVector b1 = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, o1 + at, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                lo1 = lo1.add(b1.and((short) 15).mul(xl));
                hi1 = hi1.add(b1.lanewise(VectorOperators.LSHR, 4).mul(xh));
                ShortVector b2 = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, o2 + at, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                lo2 = lo2.add(b2.and((short) 15).mul(xl));
                hi2 = hi2.add(b2.lanewise(VectorOperators.LSHR, 4).mul(xh));
                ShortVector b3 = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, o3 + at, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                lo3 = lo3.add(b3.and((short) 15).mul(xl));
                hi3 = hi3.add(b3.lanewise(VectorOperators.LSHR, 4).mul(xh));
            }
            int b0 = xb + GROUP * g;
            long s0 = scaleOffset + (long) Float.BYTES * GROUP * g;
            IntVector eights0 = bias == 0 ? IntVector.zero(Simd.I)
                    : IntVector.fromArray(Simd.I, quantSums, b0).lanewise(VectorOperators.LSHL, BIAS_SHIFT);
            IntVector eights1 = bias == 0 ? IntVector.zero(Simd.I)
                    : IntVector.fromArray(Simd.I, quantSums, b0 + 16).lanewise(VectorOperators.LSHL, BIAS_SHIFT);
            FloatVector xs0 = FloatVector.fromArray(F, xs, b0);
            FloatVector xs1 = FloatVector.fromArray(F, xs, b0 + 16);
            acc0 = FloatVector.fromMemorySegment(F, w, o0 + s0, LE).mul(xs0)
                    .fma((FloatVector) ((IntVector) lo0.convertShape(VectorOperators.S2I, Simd.I, 0))
                            .add((IntVector) hi0.convertShape(VectorOperators.S2I, Simd.I, 0)).sub(eights0)
                            .convert(VectorOperators.I2F, 0), acc0);
            acc0 = FloatVector.fromMemorySegment(F, w, o0 + s0 + 16 * Float.BYTES, LE).mul(xs1)
                    .fma((FloatVector) ((IntVector) lo0.convertShape(VectorOperators.S2I, Simd.I, 1))
                            .add((IntVector) hi0.convertShape(VectorOperators.S2I, Simd.I, 1)).sub(eights1)
                            .convert(VectorOperators.I2F, 0), acc0);
            acc1 = FloatVector.fromMemorySegment(F, w, o1 + s0, LE).mul(xs0)
                    .fma((FloatVector) ((IntVector) lo1.convertShape(VectorOperators.S2I, Simd.I, 0))
                            .add((IntVector) hi1.convertShape(VectorOperators.S2I, Simd.I, 0)).sub(eights0)
                            .convert(VectorOperators.I2F, 0), acc1);
            acc1 = FloatVector.fromMemorySegment(F, w, o1 + s0 + 16 * Float.BYTES, LE).mul(xs1)
                    .fma((FloatVector) ((IntVector) lo1.convertShape(VectorOperators.S2I, Simd.I, 1))
                            .add((IntVector) hi1.convertShape(VectorOperators.S2I, Simd.I, 1)).sub(eights1)
                            .convert(VectorOperators.I2F, 0), acc1);
            acc2 = FloatVector.fromMemorySegment(F, w, o2 + s0, LE).mul(xs0)
                    .fma((FloatVector) ((IntVector) lo2.convertShape(VectorOperators.S2I, Simd.I, 0))
                            .add((IntVector) hi2.convertShape(VectorOperators.S2I, Simd.I, 0)).sub(eights0)
                            .convert(VectorOperators.I2F, 0), acc2);
            acc2 = FloatVector.fromMemorySegment(F, w, o2 + s0 + 16 * Float.BYTES, LE).mul(xs1)
                    .fma((FloatVector) ((IntVector) lo2.convertShape(VectorOperators.S2I, Simd.I, 1))
                            .add((IntVector) hi2.convertShape(VectorOperators.S2I, Simd.I, 1)).sub(eights1)
                            .convert(VectorOperators.I2F, 0), acc2);
            acc3 = FloatVector.fromMemorySegment(F, w, o3 + s0, LE).mul(xs0)
                    .fma((FloatVector) ((IntVector) lo3.convertShape(VectorOperators.S2I, Simd.I, 0))
                            .add((IntVector) hi3.convertShape(VectorOperators.S2I, Simd.I, 0)).sub(eights0)
                            .convert(VectorOperators.I2F, 0), acc3);
            acc3 = FloatVector.fromMemorySegment(F, w, o3 + s0 + 16 * Float.BYTES, LE).mul(xs1)
                    .fma((FloatVector) ((IntVector) lo3.convertShape(VectorOperators.S2I, Simd.I, 1))
                            .add((IntVector) hi3.convertShape(VectorOperators.S2I, Simd.I, 1)).sub(eights1)
                            .convert(VectorOperators.I2F, 0), acc3);
            if (minimums) {
                long m0 = s0 + (long) Float.BYTES * blocks;
                long m1 = m0 + 16 * Float.BYTES;
                FloatVector ss0 = FloatVector.fromArray(F, scaledSums, b0);
                FloatVector ss1 = FloatVector.fromArray(F, scaledSums, b0 + 16);
                acc0 = FloatVector.fromMemorySegment(F, w, o0 + m0, LE).fma(ss0, acc0);
                acc0 = FloatVector.fromMemorySegment(F, w, o0 + m1, LE).fma(ss1, acc0);
                acc1 = FloatVector.fromMemorySegment(F, w, o1 + m0, LE).fma(ss0, acc1);
                acc1 = FloatVector.fromMemorySegment(F, w, o1 + m1, LE).fma(ss1, acc1);
                acc2 = FloatVector.fromMemorySegment(F, w, o2 + m0, LE).fma(ss0, acc2);
                acc2 = FloatVector.fromMemorySegment(F, w, o2 + m1, LE).fma(ss1, acc2);
                acc3 = FloatVector.fromMemorySegment(F, w, o3 + m0, LE).fma(ss0, acc3);
                acc3 = FloatVector.fromMemorySegment(F, w, o3 + m1, LE).fma(ss1, acc3);
            }
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 16);
        acc2.intoArray(lanes, 32);
        acc3.intoArray(lanes, 48);
        for (int j = 0; j < 4; j++) {
            out[o + j * outGap] = Simd.sum16(lanes, 16 * j);
        }
        if (groups * GROUP != blocks) {
            for (int j = 0; j < 4; j++) {
                out[o + j * outGap] += tail(w, offset + j * gap, x, row, groups, lanes);
                if (minimums) {
                    out[o + j * outGap] += minimumTail(w, offset + j * gap, x, row, groups);
                }
            }
        }
    }

    /**
     * {@link #dot} of one row with four activation rows, {@code t0 .. t0 + 3}, into {@code out[(t0 + j) * outStride
     * + outIndex]}: each 32-byte load of weights is split into its nibbles once and multiplied with the four tokens'
     * quants, so a batch costs per token little more than the 16-bit multiplies and adds. Each result is bit for bit
     * {@link #dot}'s. Small batches ({@link #maxTokenRows}, up to {@value MatMul#TOKEN_ROWS_MAX} tokens: a server's
     * decode steps) take it instead of {@link BlockGemm}'s float product, which for them spends much of its time
     * expanding the weights.
     */
    @Override
    public void dotTokens4(MemorySegment w, long offset, ActivationRows x, int t0, float[] lanes, float[] out, int outIndex,
            int outStride) {
        int n = x.width();
        int blocks = n / BLOCK;
        int groups = blocks / GROUP;
        long scales = offset + (long) blocks * NIBBLE_BYTES;
        short[] xg = x.q8Groups;
        int[] quantSums = x.q8QuantSums;
        float[] xs = x.q8Scale;
        float[] scaledSums = x.q8ScaledSums;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        FloatVector acc2 = acc0;
        FloatVector acc3 = acc0;
        for (int g = 0; g < groups; g++) {
            ShortVector lo0 = ShortVector.zero(Simd.S);
            ShortVector hi0 = lo0;
            ShortVector lo1 = ShortVector.zero(Simd.S);
            ShortVector hi1 = lo1;
            ShortVector lo2 = ShortVector.zero(Simd.S);
            ShortVector hi2 = lo2;
            ShortVector lo3 = ShortVector.zero(Simd.S);
            ShortVector hi3 = lo3;
            long go = offset + (long) GROUP * NIBBLE_BYTES * g;
            int x0 = (t0 + 0) * n + GROUP * BLOCK * g;
            int x1 = (t0 + 1) * n + GROUP * BLOCK * g;
            int x2 = (t0 + 2) * n + GROUP * BLOCK * g;
            int x3 = (t0 + 3) * n + GROUP * BLOCK * g;
            for (int p = 0; p < NIBBLE_BYTES; p++) {
                ShortVector bytes = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, w, go + (long) GROUP * p, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, Simd.S, 0);
                ShortVector low = bytes.and((short) 15);
                ShortVector high = bytes.lanewise(VectorOperators.LSHR, 4);
                int lp = GROUP * p;
                int hp = GROUP * (p + NIBBLE_BYTES);
                lo0 = lo0.add(low.mul(ShortVector.fromArray(Simd.S, xg, x0 + lp)));
                hi0 = hi0.add(high.mul(ShortVector.fromArray(Simd.S, xg, x0 + hp)));
                lo1 = lo1.add(low.mul(ShortVector.fromArray(Simd.S, xg, x1 + lp)));
                hi1 = hi1.add(high.mul(ShortVector.fromArray(Simd.S, xg, x1 + hp)));
                lo2 = lo2.add(low.mul(ShortVector.fromArray(Simd.S, xg, x2 + lp)));
                hi2 = hi2.add(high.mul(ShortVector.fromArray(Simd.S, xg, x2 + hp)));
                lo3 = lo3.add(low.mul(ShortVector.fromArray(Simd.S, xg, x3 + lp)));
                hi3 = hi3.add(high.mul(ShortVector.fromArray(Simd.S, xg, x3 + hp)));
            }
            long s0 = scales + (long) Float.BYTES * GROUP * g;
            FloatVector d0 = FloatVector.fromMemorySegment(F, w, s0, LE);
            FloatVector d1 = FloatVector.fromMemorySegment(F, w, s0 + 16 * Float.BYTES, LE);
            int b0 = (t0 + 0) * blocks + GROUP * g;
            IntVector s00 = ((IntVector) lo0.convertShape(VectorOperators.S2I, Simd.I, 0))
                    .add((IntVector) hi0.convertShape(VectorOperators.S2I, Simd.I, 0));
            if (bias != 0) {
                s00 = s00.sub(IntVector.fromArray(Simd.I, quantSums, b0).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc0 = d0.mul(FloatVector.fromArray(F, xs, b0)).fma((FloatVector) s00.convert(VectorOperators.I2F, 0), acc0);
            IntVector s01 = ((IntVector) lo0.convertShape(VectorOperators.S2I, Simd.I, 1))
                    .add((IntVector) hi0.convertShape(VectorOperators.S2I, Simd.I, 1));
            if (bias != 0) {
                s01 = s01.sub(IntVector.fromArray(Simd.I, quantSums, b0 + 16).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc0 = d1.mul(FloatVector.fromArray(F, xs, b0 + 16)).fma((FloatVector) s01.convert(VectorOperators.I2F, 0), acc0);
            int b1 = (t0 + 1) * blocks + GROUP * g;
            IntVector s10 = ((IntVector) lo1.convertShape(VectorOperators.S2I, Simd.I, 0))
                    .add((IntVector) hi1.convertShape(VectorOperators.S2I, Simd.I, 0));
            if (bias != 0) {
                s10 = s10.sub(IntVector.fromArray(Simd.I, quantSums, b1).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc1 = d0.mul(FloatVector.fromArray(F, xs, b1)).fma((FloatVector) s10.convert(VectorOperators.I2F, 0), acc1);
            IntVector s11 = ((IntVector) lo1.convertShape(VectorOperators.S2I, Simd.I, 1))
                    .add((IntVector) hi1.convertShape(VectorOperators.S2I, Simd.I, 1));
            if (bias != 0) {
                s11 = s11.sub(IntVector.fromArray(Simd.I, quantSums, b1 + 16).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc1 = d1.mul(FloatVector.fromArray(F, xs, b1 + 16)).fma((FloatVector) s11.convert(VectorOperators.I2F, 0), acc1);
            int b2 = (t0 + 2) * blocks + GROUP * g;
            IntVector s20 = ((IntVector) lo2.convertShape(VectorOperators.S2I, Simd.I, 0))
                    .add((IntVector) hi2.convertShape(VectorOperators.S2I, Simd.I, 0));
            if (bias != 0) {
                s20 = s20.sub(IntVector.fromArray(Simd.I, quantSums, b2).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc2 = d0.mul(FloatVector.fromArray(F, xs, b2)).fma((FloatVector) s20.convert(VectorOperators.I2F, 0), acc2);
            IntVector s21 = ((IntVector) lo2.convertShape(VectorOperators.S2I, Simd.I, 1))
                    .add((IntVector) hi2.convertShape(VectorOperators.S2I, Simd.I, 1));
            if (bias != 0) {
                s21 = s21.sub(IntVector.fromArray(Simd.I, quantSums, b2 + 16).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc2 = d1.mul(FloatVector.fromArray(F, xs, b2 + 16)).fma((FloatVector) s21.convert(VectorOperators.I2F, 0), acc2);
            int b3 = (t0 + 3) * blocks + GROUP * g;
            IntVector s30 = ((IntVector) lo3.convertShape(VectorOperators.S2I, Simd.I, 0))
                    .add((IntVector) hi3.convertShape(VectorOperators.S2I, Simd.I, 0));
            if (bias != 0) {
                s30 = s30.sub(IntVector.fromArray(Simd.I, quantSums, b3).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc3 = d0.mul(FloatVector.fromArray(F, xs, b3)).fma((FloatVector) s30.convert(VectorOperators.I2F, 0), acc3);
            IntVector s31 = ((IntVector) lo3.convertShape(VectorOperators.S2I, Simd.I, 1))
                    .add((IntVector) hi3.convertShape(VectorOperators.S2I, Simd.I, 1));
            if (bias != 0) {
                s31 = s31.sub(IntVector.fromArray(Simd.I, quantSums, b3 + 16).lanewise(VectorOperators.LSHL, BIAS_SHIFT));
            }
            acc3 = d1.mul(FloatVector.fromArray(F, xs, b3 + 16)).fma((FloatVector) s31.convert(VectorOperators.I2F, 0), acc3);
            if (minimums) {
                FloatVector m0 = FloatVector.fromMemorySegment(F, w, s0 + (long) Float.BYTES * blocks, LE);
                FloatVector m1 = FloatVector.fromMemorySegment(F, w, s0 + (long) Float.BYTES * (blocks + 16), LE);
                acc0 = m0.fma(FloatVector.fromArray(F, scaledSums, b0), acc0);
                acc0 = m1.fma(FloatVector.fromArray(F, scaledSums, b0 + 16), acc0);
                acc1 = m0.fma(FloatVector.fromArray(F, scaledSums, b1), acc1);
                acc1 = m1.fma(FloatVector.fromArray(F, scaledSums, b1 + 16), acc1);
                acc2 = m0.fma(FloatVector.fromArray(F, scaledSums, b2), acc2);
                acc2 = m1.fma(FloatVector.fromArray(F, scaledSums, b2 + 16), acc2);
                acc3 = m0.fma(FloatVector.fromArray(F, scaledSums, b3), acc3);
                acc3 = m1.fma(FloatVector.fromArray(F, scaledSums, b3 + 16), acc3);
            }
        }
        acc0.intoArray(lanes, 0);
        acc1.intoArray(lanes, 16);
        acc2.intoArray(lanes, 32);
        acc3.intoArray(lanes, 48);
        for (int j = 0; j < 4; j++) {
            out[(t0 + j) * outStride + outIndex] = Simd.sum16(lanes, 16 * j);
        }
        if (groups * GROUP != blocks) {
            for (int j = 0; j < 4; j++) {
                out[(t0 + j) * outStride + outIndex] += tail(w, offset, x, t0 + j, groups, lanes);
                if (minimums) {
                    out[(t0 + j) * outStride + outIndex] += minimumTail(w, offset, x, t0 + j, groups);
                }
            }
        }
    }

    @Override
    public int maxTokenRows() {
        return MatMul.TOKEN_ROWS_MAX;
    }

    @Override
    public boolean blockProduct() {
        return true;
    }

    /** As {@link Q4_0Kernel#blockMinWidth} for Q4_0; Q4_K's rows are at least a super-block. */
    @Override
    public int blockMinWidth() {
        return minimums ? 0 : Q8_0Kernel.WIDE;
    }

    @Override
    public void toBlockPanel(MemorySegment w, long offset, int n, float[] panel, long[] pairs, int r) {
        int blocks = n / BLOCK;
        int grouped = blocks / GROUP * GROUP;
        long s = offset + (long) blocks * NIBBLE_BYTES;
        long m = s + (long) Float.BYTES * blocks;
        // panel values: scale * q + minimum, one rounding: for Q4_K, so that the panel product needs no term of its
        // own for the minimums; for Q4_0 (q - 8) * scale + 0, exact
        int bias = this.bias;
        for (int b = 0; b < grouped; b += GROUP) {
            expandGroup(w, offset + (long) b * NIBBLE_BYTES, panel, pairs, b, r, bias, minimums, s, m);
        }
        for (int b = grouped; b < blocks; b++) {
            int o = BlockGemm.at(b, r);
            IntVector bytes = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, w,
                    offset + (long) NIBBLE_BYTES * b, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, Simd.I, 0);
            FloatVector low = (FloatVector) bytes.and(15).sub(bias).convert(VectorOperators.I2F, 0);
            FloatVector high = (FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).sub(bias)
                    .convert(VectorOperators.I2F, 0);
            float mul = w.get(F32, s + 4L * b);
            float add = minimums ? w.get(F32, m + 4L * b) : 0f;
            low = low.fma(mul, add);
            high = high.fma(mul, add);
            if (pairs != null) {
                low.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(b, r));
                high.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(b, r) + 8);
            } else {
                low.intoArray(panel, o);
                high.intoArray(panel, o + 16);
            }
        }
    }

    /**
     * For output pair k and source pair j of {@link #expandGroup}: the two-vector index that brings positions
     * 4j .. 4j + 3 of columns 2k and 2k + 1 from the group's vectors 2j and 2j + 1 to their lanes.
     */
    private static final ShortVector[] GATHER = new ShortVector[32];
    /** Lanes l with {@code (l mod 16) / 4 == j}: the positions that source pair j brings. */
    @SuppressWarnings("unchecked")
    private static final VectorMask<Short>[] FROM_PAIR = new VectorMask[4];

    static {
        for (int k = 0; k < 8; k++) {
            for (int j = 0; j < 4; j++) {
                short[] index = new short[32];
                for (int lane = 0; lane < 32; lane++) {
                    int column = 2 * k + lane / 16;
                    int position = lane % 16;
                    if (position / 4 == j) {
                        index[lane] = (short) ((position / 2 - 2 * j) * 32 + position % 2 * 16 + column);
                    }
                }
                GATHER[4 * k + j] = ShortVector.fromArray(Simd.S, index, 0);
            }
        }
        for (int j = 0; j < 4; j++) {
            boolean[] lanes = new boolean[32];
            for (int lane = 0; lane < 32; lane++) {
                lanes[lane] = lane % 16 / 4 == j;
            }
            FROM_PAIR[j] = VectorMask.fromArray(Simd.S, lanes, 0);
        }
    }

    /**
     * Panel row {@code r}'s blocks {@code [b0, b0 + 32)} from the transposed group at byte {@code at}, as 16-bit
     * lanes: a lane of the group's 16 positions × 32 bytes holds one position of two neighbouring blocks (low byte,
     * high byte). The group is read as eight vectors of two positions each and transposed 16 × 16 by two-vector
     * lane selections, two columns (four blocks) at a time; widening a column to 32-bit lanes then gives the even
     * block's bytes with {@code & 0xFF} and the odd block's with {@code >>> 8}, its nibbles with {@code & 15} and
     * {@code >>> 4}.
     */
    private static void expandGroup(MemorySegment w, long at, float[] panel, long[] pairs, int b0, int r, int bias,
                                    boolean minimums,
                                    long s, long m) {
        ShortVector a0 = ShortVector.fromMemorySegment(Simd.S, w, at, LE);
        ShortVector a1 = ShortVector.fromMemorySegment(Simd.S, w, at + 64, LE);
        ShortVector a2 = ShortVector.fromMemorySegment(Simd.S, w, at + 128, LE);
        ShortVector a3 = ShortVector.fromMemorySegment(Simd.S, w, at + 192, LE);
        ShortVector a4 = ShortVector.fromMemorySegment(Simd.S, w, at + 256, LE);
        ShortVector a5 = ShortVector.fromMemorySegment(Simd.S, w, at + 320, LE);
        ShortVector a6 = ShortVector.fromMemorySegment(Simd.S, w, at + 384, LE);
        ShortVector a7 = ShortVector.fromMemorySegment(Simd.S, w, at + 448, LE);
        for (int k = 0; k < 8; k++) {
            ShortVector columns = GATHER[4 * k].selectFrom(a0, a1)
                    .blend(GATHER[4 * k + 1].selectFrom(a2, a3), FROM_PAIR[1])
                    .blend(GATHER[4 * k + 2].selectFrom(a4, a5), FROM_PAIR[2])
                    .blend(GATHER[4 * k + 3].selectFrom(a6, a7), FROM_PAIR[3]);
            for (int half = 0; half < 2; half++) {
                IntVector pair = (IntVector) columns.convertShape(VectorOperators.ZERO_EXTEND_S2I, Simd.I, half);
                for (int odd = 0; odd < 2; odd++) {
                    IntVector bytes = odd == 0 ? pair.and(0xFF) : pair.lanewise(VectorOperators.LSHR, 8);
                    int block = b0 + 4 * k + 2 * half + odd;
                    int o = BlockGemm.at(block, r);
                    FloatVector low = (FloatVector) bytes.and(15).sub(bias).convert(VectorOperators.I2F, 0);
                    FloatVector high = (FloatVector) bytes.lanewise(VectorOperators.LSHR, 4).sub(bias)
                            .convert(VectorOperators.I2F, 0);
                    float mul = w.get(F32, s + 4L * block);
                    float add = minimums ? w.get(F32, m + 4L * block) : 0f;
                    low = low.fma(mul, add);
                    high = high.fma(mul, add);
                    if (pairs != null) {
                        low.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(block, r));
                        high.reinterpretAsLongs().intoArray(pairs, BlockGemm.pairAt(block, r) + 8);
                    } else {
                        low.intoArray(panel, o);
                        high.intoArray(panel, o + 16);
                    }
                }
            }
        }
    }
}
