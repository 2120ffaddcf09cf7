package dev.gale.bench;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Float16;
import dev.gale.model.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Weight matrices of random packed blocks with plausible scales, for kernel benchmarks. */
final class RandomWeights {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RandomWeights() {}

    static Tensor matrix(GgmlType type, int cols, int rows, Random rnd, Arena arena) {
        long elements = (long) cols * rows;
        long bytes = type.byteSize(elements);
        MemorySegment seg = arena.allocate(bytes, 64);
        byte[] chunk = new byte[1 << 16];
        for (long off = 0; off < bytes; off += chunk.length) {
            rnd.nextBytes(chunk);
            int n = (int) Math.min(chunk.length, bytes - off);
            MemorySegment.copy(chunk, 0, seg, ValueLayout.JAVA_BYTE, off, n);
        }
        long blocks = elements / type.blockSize();
        for (long b = 0; b < blocks; b++) {
            long p = b * type.blockBytes();
            short scale = Float16.fromFloat(0.0005f + rnd.nextFloat() * 0.001f);
            switch (type) {
                case F32 -> seg.set(F32, p, (float) rnd.nextGaussian() * 0.02f);
                case F16 -> seg.set(I16, p, Float16.fromFloat((float) rnd.nextGaussian() * 0.02f));
                case BF16 -> seg.set(I16, p, Float16.floatToBf16((float) rnd.nextGaussian() * 0.02f));
                case Q8_0, Q4_0 -> seg.set(I16, p, scale);
                case Q4_K, Q5_K -> {
                    seg.set(I16, p, scale);
                    seg.set(I16, p + 2, scale);
                }
                case Q6_K -> seg.set(I16, p + 208, scale);
                default -> throw new IllegalArgumentException("no random weights for " + type);
            }
        }
        return new Tensor("bench." + type, type, new long[] {cols, rows}, seg);
    }
}
