package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.weights.ModelWeights;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Copies of a model's Q4_0 and Q4_K matrices in the layout of {@link RepackedNibbleKernel}, whose decode is about three
 * times as fast per core as reading the file's blocks in place: per row, the nibbles of every block of 32 together
 * (transposed within groups of 32 blocks), then the block scales as floats (and, for Q4_K, the blocks' minimums).
 * Nothing is dequantized: the nibbles are the file's 4-bit values, the scales exact floats of the file's (Q4_0: its
 * fp16 scales; Q4_K: d·sc and dmin·m of each sub-block), so the copy is 11 % (Q4_0) or 33 % (Q4_K) larger than the
 * matrices in the file, and the mapped file's pages of those matrices are not read again (the operating system may
 * drop them).
 *
 * <p>Made once, when the CPU backend loads a model, on the worker pool; on by default on hardware with 512-bit
 * vectors. {@code -Dgale.cpu.repack=false} leaves every matrix in the mapped file, read in place by
 * {@link Q4_0Kernel} (ggml's arithmetic bit for bit) and {@link Q4_KKernel}.
 *
 * <p>Q6_K matrices (the output projection of a Q4_K_M or Q5_K_M file, and some of its other matrices) are copied
 * into {@link RepackedQ6_KKernel}'s layout: a byte a quant instead of a nibble and two bits in other bytes, 31 %
 * larger than the file's blocks; decode takes {@link Q6_KKernel}'s steps without taking the quants apart, with Q8_0
 * activations as the repacked Q4_K, and batches go through {@link BlockGemm}. Q5_K matrices likewise become a byte
 * a quant ({@link RepackedQ5_KKernel}, 59 % larger; also with Q8_0 activations and {@link BlockGemm}): the 1B
 * shape as Q5_K_M decoded at 7.0–8.3 tok/s against 4.9–6.3 in place.
 *
 * <p>Q8_0 matrices of rows of {@value Q8_0Kernel#WIDE} elements or more stay in the file, with a float copy of their
 * block scales (+12 %) that their decode reads instead of converting each block's fp16 scale ({@link
 * Q8_0Kernel#withScales}): the 1B shape decoded at 11.3 tok/s instead of 9.2–9.5. (Two full repacks of Q8_0 were tried and not kept. With
 * float scales and float products the kernel was twice as fast in cache, yet a 32768 × 2048 matrix streamed at
 * 10.9–11.5 GB/s on two threads against 11.1–12.0 in place; with this class's grouped 16-bit products (each quant
 * split into two nibble products) it streamed at 7.4.)
 */
final class RepackedMatrices {
    /** No matrix repacked: every product reads the mapped tensor in place. */
    static final RepackedMatrices NONE = new RepackedMatrices(new IdentityHashMap<>(), 0, 0);

    /**
     * A repacked matrix: its kernel, its bytes and the bytes of one row, and the bytes a product with it reads (its
     * data's, and for Q8_0 also the float scales its kernel holds).
     */
    record Matrix(WeightKernel kernel, MemorySegment data, long rowBytes, long bytesRead) {
    }

    private final IdentityHashMap<Tensor, Matrix> matrices;
    private final long bytes;
    private final long sourceBytes;

    private RepackedMatrices(IdentityHashMap<Tensor, Matrix> matrices, long bytes, long sourceBytes) {
        this.matrices = matrices;
        this.bytes = bytes;
        this.sourceBytes = sourceBytes;
    }

    /**
     * Whether the CPU backend repacks: on hardware with 512-bit vectors unless {@code gale.cpu.repack} is
     * {@code false}.
     *
     * @throws IllegalArgumentException if {@code gale.cpu.repack} is set to neither true nor false
     */
    static boolean enabled() {
        String value = System.getProperty("gale.cpu.repack", "true").trim();
        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("gale.cpu.repack must be true or false, not '" + value + "'");
        }
        return Simd.WIDE_VECTORS && value.equalsIgnoreCase("true");
    }

    /** The matrices of {@code weights} that products read: the blocks' and the output projection. */
    static List<Tensor> matrices(ModelWeights weights) {
        Stream<Tensor> blockMatrices = weights.layers().stream().flatMap(l -> Stream.of(l.wq(), l.wk(), l.wv(),
                l.wqkv(), l.wo(), l.wGate(), l.wUp(), l.wGateUp(), l.wDown()));
        return Stream.concat(blockMatrices, Stream.of(weights.output())).filter(Objects::nonNull).distinct().toList();
    }

    /** Bytes the repacked copies of {@code tensors} would take (for Q8_0 matrices, their float scales). */
    static long bytesNeeded(List<Tensor> tensors) {
        long bytes = 0;
        for (Tensor t : tensors.stream().distinct().toList()) {
            if (t.dims().length != 2) {
                continue;
            }
            if (RepackedNibbleKernel.forType(t.type()) != null) {
                bytes += RepackedNibbleKernel.forType(t.type()).rowBytes(t.rowLength()) * t.rows();
            } else if (ByteQuantKernel.forType(t.type()) != null) {
                bytes += ByteQuantKernel.forType(t.type()).rowBytes(t.rowLength()) * t.rows();
            } else if (hasSideScales(t)) {
                bytes += scaleBytes(t);
            }
        }
        return bytes;
    }

    /** Whether {@code t} is a Q8_0 matrix whose rows take the float form, whose block scales get a float copy. */
    private static boolean hasSideScales(Tensor t) {
        return t.type() == GgmlType.Q8_0 && t.rowLength() >= Q8_0Kernel.WIDE;
    }

    private static long scaleBytes(Tensor t) {
        return (long) t.rows() * (t.rowLength() / Q8_0Kernel.BLOCK) * Float.BYTES;
    }

    /**
     * The memory the operating system could still give this process ({@code MemAvailable} of /proc/meminfo, which
     * counts the page cache, the mapped model file included), or -1 where that is not known.
     */
    static long availableMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: unknown
        }
        return -1;
    }

    /**
     * Repacks those of {@code tensors} that are Q4_0, Q4_K, Q5_K or Q6_K matrices, and gives the Q8_0 matrices of rows of
     * {@value Q8_0Kernel#WIDE} elements or more a float copy of their block scales; the others are left as they are.
     */
    static RepackedMatrices of(Iterable<Tensor> tensors, WorkerPool pool) {
        IdentityHashMap<Tensor, Matrix> matrices = new IdentityHashMap<>();
        Arena arena = Arena.ofAuto();
        long total = 0;
        long source = 0;
        for (Tensor t : tensors) {
            if (matrices.containsKey(t) || t.dims().length != 2) {
                continue;
            }
            if (hasSideScales(t)) {
                MemorySegment scales = arena.allocate(scaleBytes(t), 64);
                long rowBlocks = t.rowLength() / Q8_0Kernel.BLOCK;
                MemorySegment src = t.data();
                pool.parallelFor(t.rows(), 64,
                        (start, end) -> Q8_0Kernel.writeScales(src, scales, start * rowBlocks, (end - start) * rowBlocks));
                matrices.put(t, new Matrix(Q8_0Kernel.withScales(scales), src, t.rowBytes(),
                        src.byteSize() + scales.byteSize()));
                total += scales.byteSize();
                continue;
            }
            WeightKernel kernel;
            long rowBytes;
            RowRepack repack;
            int n = t.rowLength();
            if (ByteQuantKernel.forType(t.type()) != null) {
                ByteQuantKernel bytes = ByteQuantKernel.forType(t.type());
                kernel = bytes;
                rowBytes = bytes.rowBytes(n);
                repack = () -> {
                    byte[][] scratch = bytes.scratch(n);
                    return (src, srcOffset, dst, dstOffset) -> bytes.repack(src, srcOffset, dst, dstOffset, n, scratch);
                };
            } else if (RepackedNibbleKernel.forType(t.type()) != null) {
                RepackedNibbleKernel nibbles = RepackedNibbleKernel.forType(t.type());
                kernel = nibbles;
                rowBytes = nibbles.rowBytes(n);
                repack = () -> {
                    RepackedNibbleKernel.Scratch scratch = new RepackedNibbleKernel.Scratch();
                    return (src, srcOffset, dst, dstOffset) -> nibbles.repack(src, srcOffset, dst, dstOffset, n, scratch);
                };
            } else {
                continue;
            }
            long copyRowBytes = rowBytes;
            MemorySegment data = arena.allocate(rowBytes * t.rows(), 64);
            MemorySegment src = t.data();
            long srcRowBytes = t.rowBytes();
            pool.parallelFor(t.rows(), 64, (start, end) -> {
                RowRepack.Rows rows = repack.forThread();
                for (int r = start; r < end; r++) {
                    rows.copy(src, r * srcRowBytes, data, r * copyRowBytes);
                }
            });
            matrices.put(t, new Matrix(kernel, data, rowBytes, data.byteSize()));
            total += data.byteSize();
            source += t.data().byteSize();
        }
        return new RepackedMatrices(matrices, total, source);
    }

    /** How a matrix's rows are rewritten: one {@link Rows} per thread, with its own scratch buffers. */
    private interface RowRepack {
        Rows forThread();

        /** Rewrites the file's row at {@code src + srcOffset} at {@code dst + dstOffset}. */
        interface Rows {
            void copy(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset);
        }
    }

    /** The repacked form of {@code w}, or null if it has none. */
    Matrix find(Tensor w) {
        return matrices.get(w);
    }

    /** How many matrices were repacked. */
    int count() {
        return matrices.size();
    }

    /** Bytes of the repacked copies (and of Q8_0's float scales). */
    long bytes() {
        return bytes;
    }

    /** Bytes of the file that the repacked copies replace (Q8_0's float scales replace none). */
    long sourceBytes() {
        return sourceBytes;
    }
}
