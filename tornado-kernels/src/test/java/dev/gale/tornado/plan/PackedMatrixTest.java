package dev.gale.tornado.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.config.UnsupportedModelException;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Quantizer;
import dev.gale.model.tensor.Tensor;
import dev.gale.tornado.kernels.PackedWeights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Weight matrices on their way to the device: kept as they are where the kernels read them, else Q8_0. */
class PackedMatrixTest {
    private static final int COLS = 256;

    @Test
    void aTypeTheKernelsReadIsCopiedAsItIs() {
        Tensor q8 = tensor("a", GgmlType.Q8_0, 3, 1);
        PackedMatrix m = PackedMatrix.stack(q8);
        assertFalse(m.requantized());
        assertEquals(PackedWeights.Q8_0, m.type());
        assertArrayEquals(q8.data().toArray(ValueLayout.JAVA_SHORT), m.words().getSegment().toArray(ValueLayout.JAVA_SHORT));
        assertEquals(q8.data().byteSize(), PackedMatrix.deviceBytes(q8));
    }

    @Test
    void kQuantsAndMixedStacksBecomeTheQ8_0OfTheirValues() {
        // a Q4_K_M file's layer: Q and K in Q4_K, V in Q6_K, and a Q8_0 part kept as it is
        Tensor q = tensor("attn_q", GgmlType.Q4_K, 4, 2);
        Tensor k = tensor("attn_k", GgmlType.Q4_K, 2, 3);
        Tensor v = tensor("attn_v", GgmlType.Q6_K, 2, 4);
        Tensor kept = tensor("extra", GgmlType.Q8_0, 1, 5);
        PackedMatrix m = PackedMatrix.stack(q, k, v, kept);
        assertTrue(m.requantized());
        assertEquals(PackedWeights.Q8_0, m.type());
        assertEquals(9, m.rows());
        long rowBytes = GgmlType.Q8_0.byteSize(COLS);
        assertEquals(9 * rowBytes, PackedMatrix.deviceBytes(q, k, v, kept));
        MemorySegment words = m.words().getSegment();
        int row = 0;
        for (Tensor t : new Tensor[] {q, k, v, kept}) {
            for (int r = 0; r < t.rows(); r++, row++) {
                MemorySegment expected = Arena.ofAuto().allocate(rowBytes);
                if (t.type() == GgmlType.Q8_0) {
                    expected.copyFrom(t.data().asSlice(r * rowBytes, rowBytes));
                } else {
                    float[] values = new float[COLS];
                    t.dequantizeRow(r, values, 0);
                    Quantizer.quantize(GgmlType.Q8_0, values, 0, COLS, expected, 0);
                }
                assertEquals(-1, words.asSlice(row * rowBytes, rowBytes).mismatch(expected), t.name() + " row " + r);
            }
        }
    }

    @Test
    void aMixedStackWhoseRowsAreNoWholeQ8_0BlocksIsRefusedWithItsName() {
        Tensor f16 = new Tensor("blk.0.attn_q.weight", GgmlType.F16, new long[] {40, 2},
                Arena.ofAuto().allocate(GgmlType.F16.byteSize(80)));
        Tensor f32 = new Tensor("blk.0.attn_k.weight", GgmlType.F32, new long[] {40, 1},
                Arena.ofAuto().allocate(GgmlType.F32.byteSize(40)));
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> PackedMatrix.stack(f16, f32));
        assertEquals("the tornadovm backend needs rows of a multiple of 32 values for Q8_0 (to which it requantizes "
                + "F16 and F32), but blk.0.attn_q.weight has 40", e.getMessage());
    }

    /** {@code rows} rows of {@link #COLS} random values (about ±0.05) quantized to {@code type}. */
    private static Tensor tensor(String name, GgmlType type, int rows, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[rows * COLS];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 0.02);
        }
        MemorySegment data = Arena.ofAuto().allocate(type.byteSize(values.length));
        if (Quantizer.canQuantize(type)) {
            Quantizer.quantize(type, values, 0, values.length, data, 0);
        } else {
            // no Q6_K quantizer in Gale: random blocks with a small fp16 scale (the last 2 of 210 bytes)
            byte[] bytes = new byte[(int) data.byteSize()];
            random.nextBytes(bytes);
            MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
            for (long b = 0; b < data.byteSize(); b += 210) {
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 208, Float.floatToFloat16(1e-4f));
            }
        }
        return new Tensor(name, type, new long[] {COLS, rows}, data);
    }
}
