package dev.gale.model.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * K-quant dequantization of hand-built super-blocks: the test packs chosen quants, scales and mins into ggml's
 * block layouts bit by bit and expects d·scale·q − dmin·min for every element.
 */
class KQuantsTest {
    private static final int N = 256;

    /** Scales and mins 0..63 with the high bits in use (values ≥ 16) for the upper sub-blocks. */
    private static final int[] SCALES = {1, 7, 13, 63, 17, 33, 48, 62};
    private static final int[] MINS = {0, 5, 63, 9, 16, 41, 30, 55};

    /** ggml's 12-byte packing of 8 six-bit scales and 8 six-bit mins. */
    private static byte[] packScales(int[] sc, int[] m) {
        byte[] s = new byte[12];
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                s[j] |= (byte) sc[j];
                s[j + 4] |= (byte) m[j];
            } else {
                s[j + 4] = (byte) ((sc[j] & 0xF) | ((m[j] & 0xF) << 4));
                s[j - 4] |= (byte) ((sc[j] >> 4) << 6);
                s[j] |= (byte) ((m[j] >> 4) << 6);
            }
        }
        return s;
    }

    private static float[] dequant(GgmlType type, byte[] block) {
        float[] out = new float[N + 2];
        Dequantizer.dequantize(type, MemorySegment.ofArray(block), 0, out, 1, N);
        assertEquals(0f, out[0]);
        assertEquals(0f, out[N + 1]);
        float[] v = new float[N];
        System.arraycopy(out, 1, v, 0, N);
        return v;
    }

    @Test
    void scaleAndMinUnpacksTheSixBitFields() {
        byte[] packed = packScales(SCALES, MINS);
        for (int j = 0; j < 8; j++) {
            int sm = KQuants.scaleAndMin(MemorySegment.ofArray(packed), 0, j);
            assertEquals(SCALES[j], sm & 0xFF, "scale " + j);
            assertEquals(MINS[j], sm >> 8, "min " + j);
        }
    }

    @Test
    void wordWiseUnpackingAgreesWithTheReference() {
        java.util.Random rnd = new java.util.Random(11);
        for (int trial = 0; trial < 1000; trial++) {
            byte[] packed = new byte[12];
            rnd.nextBytes(packed);
            MemorySegment seg = MemorySegment.ofArray(packed);
            long scales = KQuants.packedScales(seg, 0);
            long mins = KQuants.packedMins(seg, 0);
            for (int j = 0; j < 8; j++) {
                int sm = KQuants.scaleAndMin(seg, 0, j);
                assertEquals(sm & 0xFF, (int) (scales >>> (8 * j)) & 0xFF, "scale " + j);
                assertEquals(sm >> 8, (int) (mins >>> (8 * j)) & 0xFF, "min " + j);
            }
        }
    }

    @Test
    void q4K() {
        int[] q = new int[N];
        for (int e = 0; e < N; e++) {
            q[e] = (e * 7 + e / 32) % 16;
        }
        ByteBuffer b = ByteBuffer.allocate(144).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(Float16.fromFloat(0.25f)).putShort(Float16.fromFloat(0.5f)).put(packScales(SCALES, MINS));
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                b.put((byte) (q[64 * g + l] | q[64 * g + 32 + l] << 4));
            }
        }
        float[] v = dequant(GgmlType.Q4_K, b.array());
        for (int e = 0; e < N; e++) {
            int j = e / 32;
            assertEquals(0.25f * SCALES[j] * q[e] - 0.5f * MINS[j], v[e], 1e-6f, "element " + e);
        }
    }

    @Test
    void q5K() {
        int[] q = new int[N];
        for (int e = 0; e < N; e++) {
            q[e] = (e * 11 + e / 16) % 32;
        }
        ByteBuffer b = ByteBuffer.allocate(176).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(Float16.fromFloat(0.125f)).putShort(Float16.fromFloat(0.75f)).put(packScales(SCALES, MINS));
        for (int l = 0; l < 32; l++) {
            int h = 0;
            for (int s = 0; s < 8; s++) {
                h |= (q[32 * s + l] >> 4) << s;
            }
            b.put((byte) h);
        }
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                b.put((byte) ((q[64 * g + l] & 0xF) | (q[64 * g + 32 + l] & 0xF) << 4));
            }
        }
        float[] v = dequant(GgmlType.Q5_K, b.array());
        for (int e = 0; e < N; e++) {
            int j = e / 32;
            assertEquals(0.125f * SCALES[j] * q[e] - 0.75f * MINS[j], v[e], 1e-6f, "element " + e);
        }
    }

    @Test
    void q6K() {
        int[] q = new int[N]; // stored values 0..63, meaning q - 32
        for (int e = 0; e < N; e++) {
            q[e] = (e * 13 + e / 64) % 64;
        }
        int[] scales = new int[16];
        for (int i = 0; i < 16; i++) {
            scales[i] = (i * 37) % 256 - 128; // int8, both signs
        }
        byte[] ql = new byte[128];
        byte[] qh = new byte[64];
        for (int e = 0; e < N; e++) {
            int half = e / 128;
            int r = e % 128;
            int quarter = r / 32; // which of the four 32-runs: l, l + 32, l + 64, l + 96
            int l = r % 32;
            int low = q[e] & 0xF;
            int high = q[e] >> 4;
            int lowByte = 64 * half + l + (quarter % 2 == 1 ? 32 : 0);
            ql[lowByte] |= (byte) (quarter < 2 ? low : low << 4);
            qh[32 * half + l] |= (byte) (high << (2 * quarter));
        }
        ByteBuffer b = ByteBuffer.allocate(210).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ql).put(qh);
        for (int s : scales) {
            b.put((byte) s);
        }
        b.putShort(Float16.fromFloat(0.0625f));
        float[] v = dequant(GgmlType.Q6_K, b.array());
        for (int e = 0; e < N; e++) {
            int scale = scales[e / 16];
            assertEquals(0.0625f * scale * (q[e] - 32), v[e], 1e-6f, "element " + e);
        }
    }

    @Test
    void severalSuperBlocksInARow() {
        byte[] two = new byte[2 * 210];
        ByteBuffer b = ByteBuffer.wrap(two).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 16; i++) {
            two[192 + i] = 1;
            two[210 + 192 + i] = 2;
        }
        b.putShort(208, Float16.fromFloat(1f)).putShort(210 + 208, Float16.fromFloat(1f));
        float[] out = new float[512];
        Dequantizer.dequantize(GgmlType.Q6_K, MemorySegment.ofArray(two), 0, out, 0, 512);
        assertEquals(-32f, out[0]);
        assertEquals(-64f, out[256]);
        assertEquals(-64f, out[511]);
    }

    @Test
    void otherSuperBlockTypesAreRejectedByName() {
        UnsupportedTensorTypeException e = assertThrows(UnsupportedTensorTypeException.class,
                () -> Dequantizer.dequantize(GgmlType.Q3_K, MemorySegment.ofArray(new byte[110]), 0, new float[256], 0, 256));
        assertTrue(e.getMessage().contains("Q3_K") && e.getMessage().contains("Q4_K, Q5_K, Q6_K"), e.getMessage());
    }
}
