package dev.gale.model.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufTensorInfo;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Dequantization against values worked out by hand and against the F32 originals of the quantized files. */
class DequantizerTest {

    private static float[] dequant(GgmlType type, byte[] bytes, int n) {
        float[] out = new float[n];
        Dequantizer.dequantize(type, MemorySegment.ofArray(bytes), 0, out, 0, n);
        return out;
    }

    @Test
    void f16KnownBitPatterns() {
        ByteBuffer b = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x7BFF).putShort((short) 0x0001)
                .putShort((short) 0x3555);
        float[] v = dequant(GgmlType.F16, b.array(), 5);
        assertEquals(1.0f, v[0]);
        assertEquals(-2.0f, v[1]);
        assertEquals(65504.0f, v[2]);
        assertEquals((float) Math.pow(2, -24), v[3]);
        assertEquals(0.333251953125f, v[4]); // 0x3555 = 1.0101010101b × 2^-2
    }

    @Test
    void bf16KnownBitPatterns() {
        ByteBuffer b = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0x3F80).putShort((short) 0xC049).putShort((short) 0x0000);
        float[] v = dequant(GgmlType.BF16, b.array(), 3);
        assertEquals(1.0f, v[0]);
        assertEquals(-3.140625f, v[1]); // 0xC049 → sign, exponent 128, mantissa 0x49/128
        assertEquals(0.0f, v[2]);
        assertEquals((short) 0x3F80, Float16.floatToBf16(1.0f));
        assertEquals((short) 0x3F80, Float16.floatToBf16(1.00390625f)); // halfway rounds to even
        assertEquals((short) 0x3F82, Float16.floatToBf16(1.01171875f)); // halfway 0x3F81|0x3F82 → even 0x3F82
    }

    @Test
    void q8_0BlockIsScaleTimesQuant() {
        ByteBuffer b = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0x3800); // d = 0.5
        for (int j = 0; j < 32; j++) {
            b.put((byte) (j * 8 - 128));
        }
        float[] v = dequant(GgmlType.Q8_0, b.array(), 32);
        for (int j = 0; j < 32; j++) {
            assertEquals(0.5f * (j * 8 - 128), v[j]);
        }
    }

    @Test
    void q4_0LowNibblesFirstThenHighNibbles() {
        ByteBuffer b = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0x4000); // d = 2
        for (int j = 0; j < 16; j++) {
            b.put((byte) ((15 - j) << 4 | j)); // low nibble j, high nibble 15 - j
        }
        float[] v = dequant(GgmlType.Q4_0, b.array(), 32);
        for (int j = 0; j < 16; j++) {
            assertEquals(2f * (j - 8), v[j], "element " + j);
            assertEquals(2f * (15 - j - 8), v[16 + j], "element " + (16 + j));
        }
    }

    /**
     * The quantized tiny files were made from tiny-llama-f32 by llama-quantize: every dequantized weight must lie
     * within half a quantization step (a whole one where Q4_0 clamps; plus the fp16 rounding of the scale) of the
     * original.
     */
    @Test
    void quantizedFilesReproduceTheirF32Originals() throws IOException {
        Path root = Path.of(System.getProperty("gale.shared.dir", "../shared")).resolve("models/tiny");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(root), "shared models absent");
        try (GgufFile f32 = GgufFile.open(root.resolve("tiny-llama-f32.gguf"))) {
            for (String file : new String[] {"tiny-llama-q8_0.gguf", "tiny-llama-q4_0.gguf", "tiny-llama-f16.gguf",
                    "tiny-llama-bf16.gguf"}) {
                try (GgufFile q = GgufFile.open(root.resolve(file))) {
                    int checked = 0;
                    for (GgufTensorInfo t : q.tensors()) {
                        if (t.type() == GgmlType.F32) {
                            continue;
                        }
                        GgufTensorInfo o = f32.tensor(t.name());
                        Tensor qt = new Tensor(t.name(), t.type(), t.dimensions(), q.tensorData(t));
                        Tensor ot = new Tensor(o.name(), o.type(), o.dimensions(), f32.tensorData(o));
                        float[] qv = qt.toFloatArray();
                        float[] ov = ot.toFloatArray();
                        for (int b = 0; b < qv.length / 32; b++) {
                            float amax = 0;
                            for (int j = 0; j < 32; j++) {
                                amax = Math.max(amax, Math.abs(ov[32 * b + j]));
                            }
                            float step = switch (t.type()) {
                                case Q8_0 -> amax / 127f;
                                case Q4_0 -> amax / 8f;
                                default -> 0f;
                            };
                            for (int j = 0; j < 32; j++) {
                                float orig = ov[32 * b + j];
                                float tol = switch (t.type()) {
                                    case F16 -> Math.abs(orig) * 0x1p-11f + 1e-7f;
                                    case BF16 -> Math.abs(orig) * 0x1p-8f;
                                    // Q4_0 maps the largest-magnitude value to -8 and clamps at +7, so values of the
                                    // opposite sign may be off by a whole step; otherwise half a step.
                                    case Q4_0 -> step * 1.002f + Math.abs(orig) * 2e-3f;
                                    default -> step * 0.5f * 1.002f + Math.abs(orig) * 2e-3f;
                                };
                                float diff = Math.abs(qv[32 * b + j] - orig);
                                assertTrue(diff <= tol, file + " " + t.name() + "[" + (32 * b + j) + "]: " + qv[32 * b + j]
                                        + " vs " + orig + " (tolerance " + tol + ")");
                            }
                        }
                        checked++;
                    }
                    assertTrue(checked >= 15, file + ": only " + checked + " tensors compared");
                }
            }
        }
    }
}
