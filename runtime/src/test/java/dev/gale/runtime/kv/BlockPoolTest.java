package dev.gale.runtime.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BlockPoolTest {

    private static int[] range(int from, int count) {
        int[] a = new int[count];
        for (int i = 0; i < count; i++) {
            a[i] = from + i;
        }
        return a;
    }

    @Test
    void reservesAndReleasesBlocks() {
        BlockPool pool = new BlockPool(4, 4);
        BlockTable t = new BlockTable(pool);
        assertTrue(t.reserve(9));
        assertEquals(3, t.size());
        assertEquals(3, pool.referencedBlocks());
        assertEquals(1, pool.freeBlocks());
        assertFalse(t.reserve(17), "only 4 blocks exist");
        assertEquals(4, t.size());
        t.release();
        assertEquals(0, pool.referencedBlocks());
        assertEquals(4, pool.freeBlocks());
        assertEquals(0, t.size());
    }

    @Test
    void sharedPrefixReusesFullBlocksOnly() {
        BlockPool pool = new BlockPool(16, 4);
        int[] prompt = range(100, 10);
        BlockTable a = new BlockTable(pool);
        assertEquals(0, a.attachCachedPrefix(prompt, prompt.length - 1));
        assertTrue(a.reserve(prompt.length));
        a.commit(prompt, prompt.length);

        int[] other = range(100, 10);
        other[9] = 7;
        BlockTable b = new BlockTable(pool);
        assertEquals(8, b.attachCachedPrefix(other, other.length - 1), "two full blocks are shared");
        assertEquals(a.blocks()[0], b.blocks()[0]);
        assertEquals(a.blocks()[1], b.blocks()[1]);
        assertEquals(3, pool.referencedBlocks(), "shared blocks are counted once");

        int[] different = range(100, 10);
        different[5] = 0;
        BlockTable d = new BlockTable(pool);
        assertEquals(4, d.attachCachedPrefix(different, different.length - 1), "the chain breaks at the changed block");
        d.release();
        b.release();
        a.release();
        assertEquals(0, pool.referencedBlocks());
        assertEquals(2, pool.idleCachedBlocks(), "full blocks stay cached after release");
        assertEquals(16, pool.availableBlocks());
    }

    @Test
    void prefixNeverCoversTheLastToken() {
        BlockPool pool = new BlockPool(8, 4);
        int[] prompt = range(1, 8);
        BlockTable a = new BlockTable(pool);
        a.reserve(8);
        a.commit(prompt, 8);
        a.release();
        BlockTable b = new BlockTable(pool);
        assertEquals(4, b.attachCachedPrefix(prompt, prompt.length - 1), "one token is always left to run");
    }

    @Test
    void evictsLeastRecentlyReleasedCachedBlock() {
        BlockPool pool = new BlockPool(2, 2);
        int[] first = {1, 2, 3};
        int[] second = {4, 5, 6};
        BlockTable a = new BlockTable(pool);
        a.reserve(2);
        a.commit(first, 2);
        a.release();
        BlockTable b = new BlockTable(pool);
        b.reserve(2);
        b.commit(second, 2);
        b.release();
        assertEquals(2, pool.idleCachedBlocks());
        BlockTable c = new BlockTable(pool);
        assertTrue(c.reserve(2), "a cached block is evicted to make room");
        c.release();
        BlockTable again = new BlockTable(pool);
        assertEquals(0, again.attachCachedPrefix(first, 2), "the older block was evicted");
        assertEquals(2, again.attachCachedPrefix(second, 2), "the newer block survived");
    }

    @Test
    void hashesDependOnThePrefix() {
        int[] tokens = {5, 6, 7, 8};
        long h1 = BlockPool.chain(BlockPool.ROOT_HASH, tokens, 0, 4);
        long h2 = BlockPool.chain(h1, tokens, 0, 4);
        assertNotEquals(h1, h2);
        assertNotEquals(h1, BlockPool.chain(BlockPool.ROOT_HASH, new int[] {5, 6, 8, 7}, 0, 4));
    }

    @Test
    void doubleReleaseIsAnError() {
        BlockPool pool = new BlockPool(1, 4);
        int b = pool.allocate();
        pool.release(b);
        assertThrows(IllegalStateException.class, () -> pool.release(b));
        assertThrows(IllegalArgumentException.class, () -> new BlockPool(0, 4));
    }
}
