package dev.gale.tornado;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Dequantizer;
import dev.gale.model.tensor.Quantizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes a GGUF file of a Llama-shaped model with random weights, for shapes that no shared file has (e.g. Llama
 * 3.2 1B on a GPU, without shipping gigabytes). Matrices are F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K (norms and
 * RoPE factors F32); each tensor's data repeats a few megabytes of random blocks. The same model can be written with
 * its matrices dequantized to F32 ({@code dequantized = true}): the exact values the device computes with (for the
 * k-quants, those of their Q8_0 requantization), so a backend running the packed file with F32 activations must
 * match another running the F32 file.
 *
 * <p>{@code java ... dev.gale.tornado.SyntheticLlama OUT.gguf F16|BF16|Q8_0|Q4_0|Q4_K|Q5_K|Q6_K [1b|tiny]}
 */
final class SyntheticLlama {
    private static final int ALIGNMENT = 32;
    private static final int POOL_BYTES = 8 << 20;

    /** Model dimensions. */
    record Shape(int dim, int layers, int heads, int kvHeads, int ffnDim, int vocab, int context) {
        /** Llama 3.2 1B (tied embeddings, as the released model). */
        static final Shape LLAMA_3_2_1B = new Shape(2048, 16, 32, 8, 8192, 128256, 131072);
        static final Shape TINY = new Shape(64, 2, 4, 2, 128, 512, 256);

        int headDim() {
            return dim / heads;
        }
    }

    /** A tensor to write; vectors (norms, RoPE factors) are ones, matrices come from the weight pool. */
    private record TensorSpec(String name, GgmlType type, long[] dims) {
        boolean isVector() {
            return dims.length == 1;
        }

        long bytes() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return type.byteSize(n);
        }
    }

    private SyntheticLlama() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: SyntheticLlama OUT.gguf F16|Q8_0 [1b|tiny]");
            System.exit(2);
        }
        Shape shape = args.length > 2 && args[2].equals("tiny") ? Shape.TINY : Shape.LLAMA_3_2_1B;
        long start = System.nanoTime();
        write(Path.of(args[0]), shape, GgmlType.valueOf(args[1]), 42, false);
        System.out.printf("wrote %s (%s, %s) in %.1f s%n", args[0], args[1], shape, (System.nanoTime() - start) / 1e9);
    }

    /** Writes the model with {@code packedType} matrices, or (when {@code dequantized}) their F32 values. */
    static void write(Path file, Shape s, GgmlType packedType, long seed, boolean dequantized) throws IOException {
        ByteBuffer packed = pool(packedType, new SplittableRandom(seed));
        GgmlType matrixType = dequantized ? GgmlType.F32 : packedType;
        ByteBuffer pool = dequantized ? dequantize(packed, packedType) : packed;
        List<TensorSpec> tensors = new ArrayList<>();
        int kvDim = s.kvHeads() * s.headDim();
        tensors.add(new TensorSpec("token_embd.weight", matrixType, new long[] {s.dim(), s.vocab()}));
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            tensors.add(new TensorSpec(p + "attn_norm.weight", GgmlType.F32, new long[] {s.dim()}));
            tensors.add(new TensorSpec(p + "attn_q.weight", matrixType, new long[] {s.dim(), s.dim()}));
            tensors.add(new TensorSpec(p + "attn_k.weight", matrixType, new long[] {s.dim(), kvDim}));
            tensors.add(new TensorSpec(p + "attn_v.weight", matrixType, new long[] {s.dim(), kvDim}));
            tensors.add(new TensorSpec(p + "attn_output.weight", matrixType, new long[] {s.dim(), s.dim()}));
            tensors.add(new TensorSpec(p + "ffn_norm.weight", GgmlType.F32, new long[] {s.dim()}));
            tensors.add(new TensorSpec(p + "ffn_gate.weight", matrixType, new long[] {s.dim(), s.ffnDim()}));
            tensors.add(new TensorSpec(p + "ffn_up.weight", matrixType, new long[] {s.dim(), s.ffnDim()}));
            tensors.add(new TensorSpec(p + "ffn_down.weight", matrixType, new long[] {s.ffnDim(), s.dim()}));
        }
        tensors.add(new TensorSpec("output_norm.weight", GgmlType.F32, new long[] {s.dim()}));
        tensors.add(new TensorSpec("rope_freqs.weight", GgmlType.F32, new long[] {s.headDim() / 2}));

        ByteBuffer header = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(0x46554747).putInt(3).putLong(tensors.size()).putLong(13);
        string(header, "general.architecture");
        header.putInt(8);
        string(header, "llama");
        string(header, "general.name");
        header.putInt(8);
        string(header, "synthetic-llama-" + packedType + (dequantized ? "-as-F32" : ""));
        u32(header, "llama.embedding_length", s.dim());
        u32(header, "llama.block_count", s.layers());
        u32(header, "llama.attention.head_count", s.heads());
        u32(header, "llama.attention.head_count_kv", s.kvHeads());
        u32(header, "llama.feed_forward_length", s.ffnDim());
        u32(header, "llama.context_length", s.context());
        u32(header, "llama.rope.dimension_count", s.headDim());
        f32(header, "llama.rope.freq_base", 500000f);
        f32(header, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
        string(header, "llama.rope.scaling.type");
        header.putInt(8);
        string(header, "llama3");
        u32(header, "general.alignment", ALIGNMENT);
        long offset = 0;
        for (TensorSpec t : tensors) {
            string(header, t.name());
            header.putInt(t.dims().length);
            for (long d : t.dims()) {
                header.putLong(d);
            }
            header.putInt(t.type().id());
            header.putLong(offset);
            offset = align(offset + t.bytes());
        }
        while (header.position() % ALIGNMENT != 0) {
            header.put((byte) 0);
        }
        header.flip();

        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, header);
            for (TensorSpec t : tensors) {
                long bytes = t.bytes();
                if (t.isVector()) {
                    ByteBuffer ones = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
                    while (ones.hasRemaining()) {
                        ones.putFloat(1f);
                    }
                    writeFully(ch, ones.flip());
                } else {
                    for (long done = 0; done < bytes; ) {
                        int n = (int) Math.min(pool.capacity(), bytes - done);
                        writeFully(ch, pool.duplicate().limit(n));
                        done += n;
                    }
                }
                writeFully(ch, ByteBuffer.allocate((int) (align(bytes) - bytes)));
            }
        }
    }

    /** Whole blocks of random weights of about 0.02–0.03 in size (a multiple of the block size). */
    private static ByteBuffer pool(GgmlType type, SplittableRandom random) {
        int blockBytes = (int) type.byteSize(type.blockSize());
        ByteBuffer b = ByteBuffer.allocateDirect(POOL_BYTES / blockBytes * blockBytes).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            switch (type) {
                case F16 -> b.putShort(Float.floatToFloat16((float) (random.nextGaussian() * 0.02)));
                case BF16 -> b.putShort((short) (Float.floatToRawIntBits((float) (random.nextGaussian() * 0.02)) >>> 16));
                case Q8_0 -> {
                    b.putShort(Float.floatToFloat16((float) (0.06 / 127 * (0.5 + random.nextDouble()))));
                    for (int i = 0; i < 32; i++) {
                        b.put((byte) (random.nextInt(255) - 127));
                    }
                }
                case Q4_0 -> {
                    b.putShort(Float.floatToFloat16((float) (0.06 / 8 * (0.5 + random.nextDouble()))));
                    for (int i = 0; i < 16; i++) {
                        b.put((byte) random.nextInt(256));
                    }
                }
                // k-quants: random bits, then fp16 scales that keep the values of about ±0.05 (ggml's layouts:
                // Q4_K/Q5_K d and dmin first, Q6_K d last); the device holds them requantized to Q8_0
                case Q4_K, Q5_K -> {
                    byte[] block = new byte[blockBytes];
                    random.nextBytes(block);
                    int levels = type == GgmlType.Q4_K ? 15 : 31;
                    b.putShort(Float.floatToFloat16((float) (0.06 / (63 * levels) * (0.5 + random.nextDouble()))));
                    b.putShort(Float.floatToFloat16((float) (0.03 / 63 * (0.5 + random.nextDouble()))));
                    b.put(block, 4, blockBytes - 4);
                }
                case Q6_K -> {
                    byte[] block = new byte[blockBytes];
                    random.nextBytes(block);
                    b.put(block, 0, blockBytes - 2);
                    b.putShort(Float.floatToFloat16((float) (0.05 / (32 * 128) * (0.5 + random.nextDouble()))));
                }
                default -> throw new IllegalArgumentException("matrices can be F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or "
                        + "Q6_K, not " + type);
            }
        }
        return b.flip();
    }

    /**
     * The pool's values as F32, with the CPU backend's reference decoding: the values the device computes with.
     * For the k-quants, which the device holds requantized to Q8_0, the values of that Q8_0.
     */
    private static ByteBuffer dequantize(ByteBuffer packed, GgmlType type) {
        int values = (int) (packed.capacity() / type.byteSize(type.blockSize()) * type.blockSize());
        float[] f = new float[values];
        Dequantizer.dequantize(type, MemorySegment.ofBuffer(packed), 0, f, 0, values);
        if (type == GgmlType.Q4_K || type == GgmlType.Q5_K || type == GgmlType.Q6_K) {
            MemorySegment q8 = Arena.ofAuto().allocate(GgmlType.Q8_0.byteSize(values));
            Quantizer.quantize(GgmlType.Q8_0, f, 0, values, q8, 0);
            Dequantizer.dequantize(GgmlType.Q8_0, q8, 0, f, 0, values);
        }
        ByteBuffer b = ByteBuffer.allocateDirect(4 * values).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return b;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void string(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }

    private static void u32(ByteBuffer b, String key, int value) {
        string(b, key);
        b.putInt(4).putInt(value);
    }

    private static void f32(ByteBuffer b, String key, float value) {
        string(b, key);
        b.putInt(6).putFloat(value);
    }
}
