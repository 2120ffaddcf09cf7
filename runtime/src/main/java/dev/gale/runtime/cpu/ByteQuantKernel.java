package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.KQuants;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The k-quants copied a byte a quant ({@link RepackedMatrices}): Q5_K and Q6_K. What they share lives here: rewriting
 * a row super-block by super-block through two heap buffers, the activation form (Q8_0: tiles for {@link BlockGemm},
 * exact values for decode and the float panel) and when batches take which product. Their loops stay in each
 * subclass (see {@link WeightKernel}: a loop shared by two types is compiled on the profile of whichever ran first).
 */
abstract sealed class ByteQuantKernel implements WeightKernel permits RepackedQ5_KKernel, RepackedQ6_KKernel {
    static final int QK = KQuants.QK_K;
    /**
     * Batches of this many tokens or more take {@link BlockGemm}; smaller ones the float panel. On a 32768 × 2048 Q6_K
     * matrix, two threads: {@link BlockGemm} ran 8 tokens at 32–34 GFLOP/s against 46–58 for the float panel, 16 at
     * 64–65 against 59–70, 64 at 103–108 against 68–78.
     */
    static final int BLOCK_MIN_TOKENS = 16;

    /** The kernel that repacks {@code type}, or null if none does. */
    static ByteQuantKernel forType(GgmlType type) {
        return switch (type) {
            case Q5_K -> RepackedQ5_KKernel.INSTANCE;
            case Q6_K -> RepackedQ6_KKernel.INSTANCE;
            default -> null;
        };
    }

    /** Bytes of a super-block in the file. */
    abstract int fileBlockBytes();

    /** Bytes of a repacked super-block. */
    abstract int blockBytes();

    /** Rewrites the file's super-block at {@code in[p ..]} at {@code out[o ..]}. */
    abstract void repackBlock(byte[] in, int p, byte[] out, int o);

    /** Bytes of a repacked row of {@code n} elements (a multiple of 256). */
    final long rowBytes(int n) {
        return (long) n / QK * blockBytes();
    }

    /** The two heap buffers {@link #repack} takes, for rows of {@code n} elements: the file's row and the new one. */
    final byte[][] scratch(int n) {
        return new byte[][] {new byte[n / QK * fileBlockBytes()], new byte[n / QK * blockBytes()]};
    }

    /**
     * Rewrites the file's row at {@code src + srcOffset} ({@code n} elements) at {@code dst + dstOffset}, through
     * {@code scratch} ({@link #scratch}): the row is copied to the heap at once, rewritten there, and copied back.
     */
    final void repack(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int n, byte[][] scratch) {
        int blocks = n / QK;
        byte[] in = scratch[0];
        byte[] out = scratch[1];
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOffset, in, 0, fileBlockBytes() * blocks);
        for (int s = 0; s < blocks; s++) {
            repackBlock(in, fileBlockBytes() * s, out, blockBytes() * s);
        }
        MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, dstOffset, blockBytes() * blocks);
    }

    /**
     * Q8_0 activations throughout: tiles for {@link BlockGemm}'s batches, their exact values ({@link
     * ActivationRows#q8Values}) for decode and the smaller batches' float panel.
     */
    @Override
    public final void prepare(ActivationRows x, ProductPath path) {
        if (path == ProductPath.BLOCK) {
            x.prepareTiles(GgmlType.Q8_0);
        } else {
            x.prepareQ8_0Values();
        }
    }

    @Override
    public final boolean blockProduct() {
        return true;
    }

    @Override
    public final boolean panelProduct() {
        return true;
    }

    @Override
    public final int blockMinTokens() {
        return BLOCK_MIN_TOKENS;
    }

    @Override
    public final int panelStride(int n) {
        return n;
    }

    @Override
    public final void panelTile(float[] panel, int stride, ActivationRows x, int t0, float[] sums, float[] lanes) {
        FloatGemm.tile(panel, stride, x.q8Values, t0 * x.width(), x.width(), x.width(), sums, lanes);
    }

    /** Writes {@code v} as 4 little-endian bytes at {@code b[o ..]}. */
    static void putFloat(byte[] b, int o, float v) {
        int bits = Float.floatToRawIntBits(v);
        for (int i = 0; i < 4; i++) {
            b[o + i] = (byte) (bits >>> 8 * i);
        }
    }

    /** The fp16 value of the 2 little-endian bytes at {@code b[o ..]}, as a float. */
    static float half(byte[] b, int o) {
        return Float.float16ToFloat((short) ((b[o] & 0xff) | b[o + 1] << 8));
    }
}
