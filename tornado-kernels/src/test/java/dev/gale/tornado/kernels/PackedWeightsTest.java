package dev.gale.tornado.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/** The host-side meaning of the kernels' weight decoders (what every device must reproduce). */
class PackedWeightsTest {

    @Test
    void signedBytesOfEveryWord() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            int word = (short) bits; // as ShortArray.get returns it: sign-extended
            assertEquals((byte) bits, PackedWeights.signedLow(word), "low byte of " + Integer.toHexString(bits));
            assertEquals((byte) (bits >> 8), PackedWeights.signedHigh(word), "high byte of " + Integer.toHexString(bits));
        }
    }

    @Test
    void q8BlockDecodesItsSignedValues() {
        // one Q8_0 row of two blocks: scale 1.0 (0x3C00) then -128..-97, scale -0.5 (0xB800) then 96..127
        ShortArray w = new ShortArray(34);
        FloatArray x = new FloatArray(64);
        float expectedDot = 0f;
        for (int block = 0; block < 2; block++) {
            w.set(17 * block, (short) (block == 0 ? 0x3C00 : 0xB800));
            for (int j = 0; j < 32; j += 2) {
                int q0 = block == 0 ? -128 + j : 96 + j;
                int q1 = q0 + 1;
                w.set(17 * block + 1 + j / 2, (short) ((q0 & 0xFF) | (q1 << 8)));
            }
        }
        FloatArray pow2 = PackedWeights.powersOfTwo();
        for (int i = 0; i < 64; i++) {
            float scale = i < 32 ? 1f : -0.5f;
            float q = i < 32 ? -128 + i : 96 + (i - 32);
            assertEquals(scale * q, PackedWeights.value(PackedWeights.Q8_0, w, 0, 64, i, pow2), "value " + i);
            x.set(i, 1f / (1 + i));
            expectedDot += scale * q * x.get(i);
        }
        float dot = 0f;
        for (int t = 0; t < 3; t++) {
            dot += PackedWeights.quantizedPartial(PackedWeights.Q8_0, w, 0, 64, x, t, 3, pow2);
        }
        assertEquals(expectedDot, dot, 1e-4f * Math.abs(expectedDot));
    }
}
