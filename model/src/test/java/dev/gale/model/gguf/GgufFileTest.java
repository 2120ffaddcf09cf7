package dev.gale.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    @TempDir
    Path tmp;

    @Test
    void readsStories260KHeader() throws IOException {
        try (GgufFile f = GgufFile.open(GgufTestFiles.model("stories260K.gguf"))) {
            assertEquals(3, f.version());
            assertEquals(48, f.tensors().size());
            assertEquals(18, f.metadata().size());
            assertEquals(32, f.alignment());
            assertEquals("llama", f.metadata().getString("general.architecture"));
            assertEquals("tinyllamas-stories-260k", f.metadata().getString("general.name"));
            assertEquals(64, f.metadata().getInt("llama.embedding_length"));
            assertEquals(5, f.metadata().getInt("llama.block_count"));
            assertEquals(172, f.metadata().getInt("llama.feed_forward_length"));
            assertEquals(4, f.metadata().getInt("llama.attention.head_count_kv"));
            assertEquals(1e-5, f.metadata().getDouble("llama.attention.layer_norm_rms_epsilon"), 1e-9);
            assertEquals(512, f.metadata().getStringArray("tokenizer.ggml.tokens").length);
            assertEquals("<s>", f.metadata().getStringArray("tokenizer.ggml.tokens")[1]);
            assertEquals(512, f.metadata().getFloatArray("tokenizer.ggml.scores").length);
            assertEquals(1, f.metadata().getInt("tokenizer.ggml.bos_token_id"));
            GgufTensorInfo embd = f.tensor("token_embd.weight");
            assertArrayEquals(new long[] {64, 512}, embd.dimensions());
            assertEquals(GgmlType.F32, embd.type());
            assertTrue(f.hasTensor("output.weight"));
            assertEquals(0, f.dataOffset() % 32);
        }
    }

    @Test
    void tensorDataIsAZeroCopySliceOfTheMapping() throws IOException {
        Path p = GgufTestFiles.model("stories260K.gguf");
        byte[] raw = Files.readAllBytes(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertTrue(f.mapping().isMapped());
            GgufTensorInfo t = f.tensor("blk.0.attn_q.weight");
            MemorySegment data = f.tensorData(t);
            assertEquals(f.mapping().address() + f.dataOffset() + t.offset(), data.address());
            assertEquals(64L * 64 * 4, data.byteSize());
            float first = ByteBuffer.wrap(raw, (int) (f.dataOffset() + t.offset()), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
            assertEquals(first, data.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0));
        }
    }

    @Test
    void readsEveryTensorTypeOfTheTinyModels() throws IOException {
        for (String name : new String[] {"tiny/tiny-llama-f16.gguf", "tiny/tiny-llama-bf16.gguf",
                "tiny/tiny-llama-q8_0.gguf", "tiny/tiny-llama-q4_0.gguf"}) {
            try (GgufFile f = GgufFile.open(GgufTestFiles.model(name))) {
                assertEquals(21, f.tensors().size(), name);
            }
        }
    }

    @Test
    void rejectsVersion1WithAClearMessage() {
        GgufFormatException e = assertThrows(GgufFormatException.class,
                () -> GgufFile.open(GgufTestFiles.model("tinyllamas-stories-260k-f32.v1.gguf")));
        assertEquals("version", e.field());
        assertTrue(e.getMessage().contains("version 1 is not supported"), e.getMessage());
        assertTrue(e.getMessage().contains("tinyllamas-stories-260k-f32.v1.gguf"), e.getMessage());
    }

    @Test
    void rejectsBadMagic() throws IOException {
        Path p = tmp.resolve("bad.gguf");
        byte[] b = Files.readAllBytes(GgufTestFiles.model("tiny/tiny-llama-q4_0.gguf"));
        b[0] = 'X';
        Files.write(p, b);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
    }

    @Test
    void rejectsAbsurdTensorCount() throws IOException {
        Path p = tmp.resolve("count.gguf");
        byte[] b = Files.readAllBytes(GgufTestFiles.model("tiny/tiny-llama-q4_0.gguf"));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(8, 1L << 60);
        Files.write(p, b);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p));
        assertEquals("tensor_count", e.field());
        assertTrue(e.getMessage().contains("impossible"), e.getMessage());
    }

    @Test
    void rejectsUnknownTensorType() throws IOException {
        Path p = tmp.resolve("type.gguf");
        Path src = GgufTestFiles.model("tiny/tiny-llama-q4_0.gguf");
        byte[] b = Files.readAllBytes(src);
        long typePos;
        try (GgufFile f = GgufFile.open(src)) {
            // the first tensor info follows the metadata; find its type field by re-walking the header
            GgufTensorInfo first = f.tensors().getFirst();
            typePos = locateTypeField(b, first);
        }
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt((int) typePos, 99);
        Files.write(p, b);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains("unknown ggml tensor type 99"), e.getMessage());
    }

    @Test
    void rejectsTruncatedTensorData() throws IOException {
        Path p = tmp.resolve("trunc.gguf");
        byte[] b = Files.readAllBytes(GgufTestFiles.model("tiny/tiny-llama-q4_0.gguf"));
        Files.write(p, java.util.Arrays.copyOf(b, b.length - 100));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains("runs past the end of the file"), e.getMessage());
    }

    @Test
    void missingFileIsNoSuchFile() {
        assertThrows(NoSuchFileException.class, () -> GgufFile.open(tmp.resolve("absent.gguf")));
    }

    /** Offset of the type field of {@code t}'s info: after its name, n_dims and dims. */
    private static long locateTypeField(byte[] b, GgufTensorInfo t) {
        byte[] name = t.name().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        outer:
        for (int i = 24; i + 8 + name.length < b.length; i++) {
            if (bb.getLong(i) != name.length) {
                continue;
            }
            for (int j = 0; j < name.length; j++) {
                if (b[i + 8 + j] != name[j]) {
                    continue outer;
                }
            }
            int pos = i + 8 + name.length;
            int nDims = bb.getInt(pos);
            return pos + 4 + 8L * nDims;
        }
        throw new AssertionError("tensor info not found");
    }
}
