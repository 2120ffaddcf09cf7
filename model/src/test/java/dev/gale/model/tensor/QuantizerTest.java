package dev.gale.model.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.SharedTestData;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufTensorInfo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The reference quantizers against llama-quantize's output and against their own dequantization. */
class QuantizerTest {

    private static byte[] quantize(GgmlType type, float[] src) {
        MemorySegment dst = Arena.ofAuto().allocate(type.byteSize(src.length));
        Quantizer.quantize(type, src, 0, src.length, dst, 0);
        return dst.toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * tiny-llama-q8_0 and -q4_0 were made from tiny-llama-f32 by llama-quantize (which uses ggml's reference
     * quantizers without an importance matrix): quantizing the F32 weights must give the same bytes.
     */
    @Test
    void reproducesLlamaQuantizeByteForByte() throws IOException {
        try (GgufFile f32 = GgufFile.open(SharedTestData.model("tiny/tiny-llama-f32.gguf"))) {
            for (String file : new String[] {"tiny/tiny-llama-q8_0.gguf", "tiny/tiny-llama-q4_0.gguf"}) {
                try (GgufFile q = GgufFile.open(SharedTestData.model(file))) {
                    int compared = 0;
                    for (GgufTensorInfo t : q.tensors()) {
                        if (t.type() == GgmlType.F32) {
                            continue;
                        }
                        GgufTensorInfo o = f32.tensor(t.name());
                        float[] weights = new Tensor(o.name(), o.type(), o.dimensions(), f32.tensorData(o)).toFloatArray();
                        byte[] expected = q.tensorData(t).toArray(ValueLayout.JAVA_BYTE);
                        assertArrayEquals(expected, quantize(t.type(), weights), file + " " + t.name());
                        compared++;
                    }
                    assertTrue(compared >= 15, file + ": " + compared + " tensors");
                }
            }
        }
    }

    @Test
    void q8_0RequantizesItsOwnOutputUnchanged() {
        float[] x = gaussian(4096, 1);
        byte[] q = quantize(GgmlType.Q8_0, x);
        float[] back = new float[x.length];
        Dequantizer.dequantize(GgmlType.Q8_0, MemorySegment.ofArray(q), 0, back, 0, back.length);
        assertArrayEquals(q, quantize(GgmlType.Q8_0, back));
    }

    @Test
    void q4_KIsCloseToItsInput() {
        float[] x = gaussian(8 * 256, 2);
        byte[] q = quantize(GgmlType.Q4_K, x);
        float[] back = new float[x.length];
        Dequantizer.dequantize(GgmlType.Q4_K, MemorySegment.ofArray(q), 0, back, 0, back.length);
        double err = 0;
        double energy = 0;
        for (int i = 0; i < x.length; i++) {
            err += (back[i] - x[i]) * (back[i] - x[i]);
            energy += x[i] * x[i];
        }
        // 4.5 bits per weight on Gaussian data: about 1 % relative RMS error (ggml gets about the same)
        double rel = Math.sqrt(err / energy);
        assertTrue(rel < 0.12, "relative RMS error " + rel);
        assertTrue(rel > 0.01, "suspiciously exact: " + rel);
        for (int b = 0; b < 8; b++) {
            for (int j = 0; j < 256; j++) {
                float amax = 0;
                for (int k = 32 * (j / 32); k < 32 * (j / 32) + 32; k++) {
                    amax = Math.max(amax, Math.abs(x[256 * b + k]));
                }
                assertTrue(Math.abs(back[256 * b + j] - x[256 * b + j]) <= amax * 0.25f,
                        "element " + (256 * b + j) + ": " + back[256 * b + j] + " vs " + x[256 * b + j]);
            }
        }
    }

    /**
     * Q5_K: as Q4_K on a grid twice as fine (0 to 31, a scale and a minimum per 32 elements): each element within a
     * sixteenth of its sub-block's range, and about half Q4_K's error.
     */
    @Test
    void q5_KIsCloseToItsInput() {
        float[] x = gaussian(8 * 256, 4);
        byte[] q = quantize(GgmlType.Q5_K, x);
        assertEquals(8 * 176, q.length);
        float[] back = new float[x.length];
        Dequantizer.dequantize(GgmlType.Q5_K, MemorySegment.ofArray(q), 0, back, 0, back.length);
        double err = 0;
        double energy = 0;
        for (int i = 0; i < x.length; i++) {
            err += (back[i] - x[i]) * (back[i] - x[i]);
            energy += x[i] * x[i];
            float lo = 0;
            float hi = 0;
            for (int k = 32 * (i / 32); k < 32 * (i / 32) + 32; k++) {
                lo = Math.min(lo, x[k]);
                hi = Math.max(hi, x[k]);
            }
            assertTrue(Math.abs(back[i] - x[i]) <= (hi - lo) / 16, "element " + i + ": " + back[i] + " vs " + x[i]);
        }
        double rel = Math.sqrt(err / energy);
        assertTrue(rel < 0.06, "relative RMS error " + rel);
        assertTrue(rel > 0.005, "suspiciously exact: " + rel);
    }

    /**
     * Q6_K: each element within a tenth of its sub-block's largest magnitude (a grid step is about a 32nd; a sub-block
     * whose 8-bit scale rounds down may clip its largest values by a few steps), and a relative RMS error near 6.5-bit
     * quantization's on Gaussian data.
     */
    @Test
    void q6_KIsCloseToItsInput() {
        float[] x = gaussian(8 * 256, 3);
        x[5] = 0.5f; // an outlier: its sub-block's scale is large, the others' stay small
        byte[] q = quantize(GgmlType.Q6_K, x);
        assertEquals(8 * 210, q.length);
        float[] back = new float[x.length];
        Dequantizer.dequantize(GgmlType.Q6_K, MemorySegment.ofArray(q), 0, back, 0, back.length);
        double err = 0;
        double energy = 0;
        for (int i = 0; i < x.length; i++) {
            err += (back[i] - x[i]) * (back[i] - x[i]);
            energy += x[i] * x[i];
            float amax = 0;
            for (int k = 16 * (i / 16); k < 16 * (i / 16) + 16; k++) {
                amax = Math.max(amax, Math.abs(x[k]));
            }
            assertTrue(Math.abs(back[i] - x[i]) <= amax / 10, "element " + i + ": " + back[i] + " vs " + x[i]);
        }
        double rel = Math.sqrt(err / energy);
        assertTrue(rel < 0.04, "relative RMS error " + rel);
        assertTrue(rel > 0.002, "suspiciously exact: " + rel);
    }

    @Test
    void allZeroBlocksStayZero() {
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            float[] back = new float[256];
            Dequantizer.dequantize(type, MemorySegment.ofArray(quantize(type, new float[256])), 0, back, 0, 256);
            for (float v : back) {
                assertEquals(0f, v, 0f, type.toString()); // Q4_0's scale is max / -8 = -0, as in ggml
            }
        }
    }

    @Test
    void halfTypesRoundToNearestEven() {
        float[] x = {1.0f, 1.00048828125f, 1.00146484375f, -65504f, 1e-8f};
        float[] back = new float[x.length];
        Dequantizer.dequantize(GgmlType.F16, MemorySegment.ofArray(quantize(GgmlType.F16, x)), 0, back, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float16.round(x[i]), back[i]);
        }
        assertEquals(1.0f, back[1]); // halfway between 1 and 1 + 2^-10: to even
        assertEquals(1.001953125f, back[2]); // halfway between 1 + 2^-10 and 1 + 2^-9: to even
    }

    @Test
    void rejectsPartialBlocksAndUnsupportedTypes() {
        assertThrows(IllegalArgumentException.class, () -> quantize(GgmlType.Q8_0, new float[33]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Quantizer.quantize(GgmlType.Q3_K, new float[256], 0, 256, Arena.ofAuto().allocate(110), 0));
        assertTrue(e.getMessage().contains("Q3_K"), e.getMessage());
    }

    private static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian() * 0.02f;
        }
        return x;
    }
}
