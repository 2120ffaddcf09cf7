package dev.gale.runtime.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PagedKvCacheTest {
    /** Every (slot, element) of a block has its own place in the block's array, and putKey puts each element there. */
    @ParameterizedTest
    @ValueSource(ints = {1, 4, 16, 48, 100})
    void keysLandWhereKeyIndexSays(int blockSize) {
        int kvDim = 24;
        PagedKvCache kv = new PagedKvCache(2, 3, blockSize, kvDim, 8);
        assertEquals(blockSize % 16 == 0 ? 16 : 1, kv.keyGroup());
        Set<Integer> places = new HashSet<>();
        for (int slot = 0; slot < blockSize; slot++) {
            float[] key = new float[kvDim + 5];
            for (int e = 0; e < kvDim; e++) {
                key[5 + e] = slot * 1000 + e;
            }
            kv.putKey(1, 2, slot, key, 5);
            for (int e = 0; e < kvDim; e++) {
                int i = kv.keyIndex(slot, e);
                places.add(i);
            }
        }
        assertEquals(blockSize * kvDim, places.size());
        float[] block = kv.keys(1, 2);
        assertEquals(blockSize * kvDim, block.length);
        for (int slot = 0; slot < blockSize; slot++) {
            for (int e = 0; e < kvDim; e++) {
                assertEquals(slot * 1000 + e, block[kv.keyIndex(slot, e)], "slot " + slot + " element " + e);
            }
        }
        // other blocks and layers untouched
        for (float f : kv.keys(0, 2)) {
            assertEquals(0f, f);
        }
    }

    /** With groups of 16, element e of the 16 positions of a group lies in 16 consecutive floats. */
    @Test
    void aGroupHoldsOneElementOfSixteenPositionsInARow() {
        PagedKvCache kv = new PagedKvCache(1, 1, 32, 8, 8);
        for (int e = 0; e < 8; e++) {
            for (int slot = 16; slot < 32; slot++) {
                assertEquals(kv.keyIndex(16, e) + (slot - 16), kv.keyIndex(slot, e));
            }
        }
    }

    @Test
    void anEmptyCacheIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PagedKvCache(1, 0, 16, 8, 8));
    }
}
