package dev.gale.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.SharedTestData;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files written by {@link GgufWriter}, read back by {@link GgufFile} (and compared with a gguf-py file). */
class GgufWriterTest {
    @TempDir
    Path dir;

    @Test
    void everyMetadataTypeRoundTrips() throws IOException {
        GgufWriter w = new GgufWriter();
        Map<String, GgufValue> values = new java.util.LinkedHashMap<>();
        values.put("u8", new GgufValue(GgufValueType.UINT8, null, 255L));
        values.put("i8", new GgufValue(GgufValueType.INT8, null, -128L));
        values.put("u16", new GgufValue(GgufValueType.UINT16, null, 65535L));
        values.put("i16", new GgufValue(GgufValueType.INT16, null, -32768L));
        values.put("u32", GgufValue.ofUInt32(4294967295L));
        values.put("i32", GgufValue.ofInt32(Integer.MIN_VALUE));
        values.put("u64", new GgufValue(GgufValueType.UINT64, null, -1L));
        values.put("i64", new GgufValue(GgufValueType.INT64, null, Long.MIN_VALUE));
        values.put("f32", GgufValue.ofFloat32(-1.5e-7f));
        values.put("f64", new GgufValue(GgufValueType.FLOAT64, null, Math.PI));
        values.put("bool", GgufValue.ofBool(true));
        values.put("string", GgufValue.ofString("héllo ✓ 😊"));
        values.put("empty string", GgufValue.ofString(""));
        values.put("u8[]", GgufValue.ofArray(GgufValueType.UINT8, new int[] {0, 1, 255}));
        values.put("i16[]", GgufValue.ofArray(GgufValueType.INT16, new int[] {-32768, 0, 32767}));
        values.put("u32[]", GgufValue.ofArray(GgufValueType.UINT32, new int[] {-1, 7}));
        values.put("i64[]", GgufValue.ofArray(GgufValueType.INT64, new long[] {Long.MAX_VALUE, -2}));
        values.put("f32[]", GgufValue.ofArray(GgufValueType.FLOAT32, new float[] {1f, Float.NaN, -0f}));
        values.put("f64[]", GgufValue.ofArray(GgufValueType.FLOAT64, new double[] {1e300, -1e-300}));
        values.put("bool[]", GgufValue.ofArray(GgufValueType.BOOL, new boolean[] {true, false, true}));
        values.put("string[]", GgufValue.ofArray(GgufValueType.STRING, new String[] {"a", "", "ü"}));
        values.put("empty[]", GgufValue.ofArray(GgufValueType.FLOAT32, new float[0]));
        values.put("nested[]", GgufValue.ofArray(GgufValueType.ARRAY, new GgufValue[] {
                GgufValue.ofArray(GgufValueType.INT32, new int[] {1, 2}),
                GgufValue.ofArray(GgufValueType.STRING, new String[] {"x"})}));
        values.forEach(w::put);
        Path file = dir.resolve("meta.gguf");
        w.write(file);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(3, g.version());
            assertEquals(0, g.tensors().size());
            assertEquals(List.copyOf(values.keySet()), List.copyOf(g.metadata().asMap().keySet()));
            for (Map.Entry<String, GgufValue> e : values.entrySet()) {
                GgufValue got = g.metadata().asMap().get(e.getKey());
                assertTrue(sameValue(e.getValue(), got), e.getKey() + ": wrote " + e.getValue() + ", read " + got);
            }
        }
    }

    private static boolean sameValue(GgufValue a, GgufValue b) {
        if (a.type() != b.type() || a.elementType() != b.elementType()) {
            return false;
        }
        if (a.value() instanceof GgufValue[] x && b.value() instanceof GgufValue[] y) {
            if (x.length != y.length) {
                return false;
            }
            for (int i = 0; i < x.length; i++) {
                if (!sameValue(x[i], y[i])) {
                    return false;
                }
            }
            return true;
        }
        return Objects.deepEquals(new Object[] {a.value()}, new Object[] {b.value()});
    }

    @Test
    void tensorsAreAlignedAndIntact() throws IOException {
        Random rnd = new Random(5);
        byte[] a = new byte[(int) GgmlType.Q8_0.byteSize(64 * 3)];
        byte[] b = new byte[4 * 5];
        byte[] c = new byte[2 * 48];
        rnd.nextBytes(a);
        rnd.nextBytes(b);
        rnd.nextBytes(c);
        GgufWriter w = new GgufWriter().put("general.alignment", GgufValue.ofUInt32(64));
        w.addTensor("a", GgmlType.Q8_0, new long[] {64, 3}, dst -> MemorySegment.copy(MemorySegment.ofArray(a), 0, dst, 0, a.length));
        w.addTensor("b", GgmlType.F32, new long[] {5}, dst -> MemorySegment.copy(MemorySegment.ofArray(b), 0, dst, 0, b.length));
        w.addTensor("c", GgmlType.F16, new long[] {4, 3, 2, 2}, dst -> MemorySegment.copy(MemorySegment.ofArray(c), 0, dst, 0, c.length));
        Path file = dir.resolve("t.gguf");
        w.write(file);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataOffset() % 64);
            for (GgufTensorInfo t : g.tensors()) {
                assertEquals(0, t.offset() % 64, t.name());
            }
            assertArrayEquals(new long[] {4, 3, 2, 2}, g.tensor("c").dimensions());
            assertArrayEquals(a, g.tensorData(g.tensor("a")).toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(b, g.tensorData(g.tensor("b")).toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(c, g.tensorData(g.tensor("c")).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** A gguf-py file (v3, alignment 32) copied key by key and tensor by tensor comes out byte for byte the same. */
    @Test
    void rewritesAGgufPyFileIdentically() throws IOException {
        Path original = SharedTestData.model("tiny/tiny-llama-f32.gguf");
        Path copy = dir.resolve("copy.gguf");
        try (GgufFile g = GgufFile.open(original)) {
            GgufWriter w = new GgufWriter();
            g.metadata().asMap().forEach(w::put);
            for (GgufTensorInfo t : g.tensors()) {
                MemorySegment src = g.tensorData(t);
                w.addTensor(t.name(), t.type(), t.dimensions(), dst -> MemorySegment.copy(src, 0, dst, 0, src.byteSize()));
            }
            w.write(copy);
        }
        assertArrayEquals(Files.readAllBytes(original), Files.readAllBytes(copy));
    }

    @Test
    void rejectsInconsistentInput() throws IOException {
        GgufWriter w = new GgufWriter();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> w.put("k", new GgufValue(GgufValueType.UINT32, null, "text")));
        assertTrue(e.getMessage().contains("'k'") && e.getMessage().contains("UINT32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.put("k", GgufValue.ofArray(GgufValueType.FLOAT32, new int[1])));
        w.addTensor("x", GgmlType.F32, new long[] {4}, dst -> { });
        e = assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.F32, new long[] {4}, dst -> { }));
        assertTrue(e.getMessage().contains("duplicate tensor name 'x'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", GgmlType.Q4_0, new long[] {48, 2}, dst -> { }));
        assertTrue(e.getMessage().contains("not a multiple of the Q4_0 block size 32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("r", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, dst -> { }));
    }

    @Test
    void aFailedWriteLeavesNoFile() {
        GgufWriter w = new GgufWriter();
        w.addTensor("x", GgmlType.F32, new long[] {4}, dst -> {
            throw new IllegalStateException("source failed");
        });
        Path file = dir.resolve("never.gguf");
        assertThrows(IllegalStateException.class, () -> w.write(file));
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(dir.resolve("never.gguf.part")));
    }
}
