package dev.gale.runtime.kv;

import java.util.Arrays;

/**
 * The KV blocks of one sequence, in position order: position {@code p} is in block {@code blocks()[p / blockSize]}.
 * Full blocks are registered in the pool's prefix cache as soon as their positions are computed, so sequences that
 * share a prompt prefix share its blocks.
 */
public final class BlockTable {
    private final BlockPool pool;
    private int[] blocks = new int[8];
    private int size;
    /** Leading blocks whose content is registered (or came from the cache); lastHash is the chain hash after them. */
    private int hashed;
    private long lastHash = BlockPool.ROOT_HASH;

    public BlockTable(BlockPool pool) {
        this.pool = pool;
    }

    /** The block ids; entries from {@link #size()} on are unused. */
    public int[] blocks() {
        return blocks;
    }

    /** Number of blocks held. */
    public int size() {
        return size;
    }

    /** Positions the held blocks can store. */
    public int capacity() {
        return size * pool.blockSize();
    }

    /**
     * Takes the cached blocks that already hold the longest prefix of {@code tokens} made of full blocks and at most
     * {@code maxTokens} long. Call on an empty table. Returns the number of positions they cover.
     */
    public int attachCachedPrefix(int[] tokens, int maxTokens) {
        if (size != 0) {
            throw new IllegalStateException("the prefix must be attached to an empty block table");
        }
        int bs = pool.blockSize();
        int candidates = Math.min(maxTokens, tokens.length) / bs;
        for (int k = 0; k < candidates; k++) {
            long h = BlockPool.chain(lastHash, tokens, k * bs, bs);
            int b = pool.acquireCached(h, lastHash, tokens, k * bs);
            if (b < 0) {
                break;
            }
            add(b);
            lastHash = h;
            hashed++;
        }
        return size * bs;
    }

    /** Adds blocks until {@code positions} positions fit; false if the pool ran out (blocks taken so far are kept). */
    public boolean reserve(int positions) {
        while (capacity() < positions) {
            int b = pool.allocate();
            if (b < 0) {
                return false;
            }
            add(b);
        }
        return true;
    }

    /**
     * Declares that positions {@code [0, computed)} now hold the keys and values of {@code tokens[0 .. computed)};
     * blocks that became full are offered to the prefix cache.
     */
    public void commit(int[] tokens, int computed) {
        int bs = pool.blockSize();
        while ((hashed + 1) * bs <= computed && hashed < size) {
            long h = BlockPool.chain(lastHash, tokens, hashed * bs, bs);
            pool.register(blocks[hashed], h, lastHash, tokens, hashed * bs);
            lastHash = h;
            hashed++;
        }
    }

    /** Returns every block to the pool; the table is empty afterwards. */
    public void release() {
        for (int i = 0; i < size; i++) {
            pool.release(blocks[i]);
        }
        size = 0;
        hashed = 0;
        lastHash = BlockPool.ROOT_HASH;
    }

    private void add(int block) {
        if (size == blocks.length) {
            blocks = Arrays.copyOf(blocks, size * 2);
        }
        blocks[size++] = block;
    }
}
