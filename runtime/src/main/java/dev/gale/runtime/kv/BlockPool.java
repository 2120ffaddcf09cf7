package dev.gale.runtime.kv;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Hands out the blocks of a paged KV cache and remembers full blocks for reuse (prefix caching).
 *
 * <p>A block is in one of three states: <em>free</em> (holds nothing), <em>referenced</em> (used by one or more
 * sequences; {@code refCount > 0}) or <em>cached</em> (unreferenced, but its positions hold the keys and values of a
 * known run of tokens, so a later sequence with the same prefix can take it instead of computing it again). A full
 * block is identified by a hash of its token ids chained with the hash of the block before it, so equal hashes mean
 * equal prefixes; a hit is also checked against the block's stored tokens and parent hash. When no free block is
 * left, the least recently released cached block is evicted.
 *
 * <p>Not thread-safe: one thread (the scheduler) changes it. The counters may be read from any thread.
 */
public final class BlockPool {
    /** The chain hash "before" the first block. */
    public static final long ROOT_HASH = 0x6A09E667F3BCC908L;

    private final int blockSize;
    private final int[] refCount;
    private final long[] hash;
    private final long[] parentHash;
    private final int[][] tokens;
    private final boolean[] cached;
    private final int[] freeStack;
    private int freeTop;
    /** Cached blocks with no references, least recently released first. */
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>();
    private final Map<Long, Integer> byHash = new HashMap<>();
    private volatile int referenced;
    private volatile int free;
    private volatile int idleCached;

    public BlockPool(int blocks, int blockSize) {
        if (blocks <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("a block pool needs at least one block of at least one position, got "
                    + blocks + " blocks of " + blockSize);
        }
        this.blockSize = blockSize;
        this.refCount = new int[blocks];
        this.hash = new long[blocks];
        this.parentHash = new long[blocks];
        this.tokens = new int[blocks][];
        this.cached = new boolean[blocks];
        this.freeStack = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            freeStack[i] = blocks - 1 - i;
        }
        this.freeTop = blocks;
        this.free = blocks;
    }

    public int blockSize() {
        return blockSize;
    }

    public int totalBlocks() {
        return refCount.length;
    }

    /** Blocks used by at least one sequence. */
    public int referencedBlocks() {
        return referenced;
    }

    /** Blocks that hold nothing. */
    public int freeBlocks() {
        return free;
    }

    /** Unreferenced blocks kept for prefix reuse (evicted when a block is needed and none is free). */
    public int idleCachedBlocks() {
        return idleCached;
    }

    /** Blocks that {@link #allocate} can still hand out: free ones plus evictable cached ones. */
    public int availableBlocks() {
        return free + idleCached;
    }

    /** Blocks needed for {@code positions} positions. */
    public int blocksFor(int positions) {
        return (positions + blockSize - 1) / blockSize;
    }

    /** A block for new positions (reference count 1), or -1 when every block is referenced. */
    public int allocate() {
        int b;
        if (freeTop > 0) {
            b = freeStack[--freeTop];
            free = freeTop;
        } else if (!evictable.isEmpty()) {
            Iterator<Integer> it = evictable.iterator();
            b = it.next();
            it.remove();
            idleCached = evictable.size();
            byHash.remove(hash[b]);
            cached[b] = false;
            tokens[b] = null;
        } else {
            return -1;
        }
        refCount[b] = 1;
        referenced = referenced + 1;
        return b;
    }

    /** Drops one reference; a block nobody uses becomes free, or evictable if it is cached. */
    public void release(int block) {
        if (refCount[block] <= 0) {
            throw new IllegalStateException("KV block " + block + " released more often than it was taken");
        }
        if (--refCount[block] > 0) {
            return;
        }
        referenced = referenced - 1;
        if (cached[block]) {
            evictable.add(block);
            idleCached = evictable.size();
        } else {
            freeStack[freeTop++] = block;
            free = freeTop;
        }
    }

    /**
     * The cached block with chain hash {@code h}, holding {@code blockSize} tokens from {@code tokens[from]} after the
     * prefix with chain hash {@code parent}, with one more reference; or -1 (a miss).
     */
    int acquireCached(long h, long parent, int[] tokens, int from) {
        Integer b = byHash.get(h);
        if (b == null || parentHash[b] != parent
                || !Arrays.equals(this.tokens[b], 0, blockSize, tokens, from, from + blockSize)) {
            return -1;
        }
        if (refCount[b]++ == 0) {
            evictable.remove(b);
            idleCached = evictable.size();
            referenced = referenced + 1;
        }
        return b;
    }

    /**
     * Marks a referenced, full block as holding {@code blockSize} tokens from {@code tokens[from]} after the prefix
     * with chain hash {@code parent} (its own chain hash is {@code h}), so later sequences can reuse it. A block whose
     * content is already cached elsewhere stays private.
     */
    void register(int block, long h, long parent, int[] tokens, int from) {
        if (!cached[block] && !byHash.containsKey(h)) {
            cached[block] = true;
            hash[block] = h;
            parentHash[block] = parent;
            this.tokens[block] = Arrays.copyOfRange(tokens, from, from + blockSize);
            byHash.put(h, block);
        }
    }

    /** The chain hash of {@code count} token ids from {@code tokens[from]} following a prefix with hash {@code parent}. */
    static long chain(long parent, int[] tokens, int from, int count) {
        long h = parent * 0x9E3779B97F4A7C15L + count;
        for (int i = 0; i < count; i++) {
            h = mix(h ^ (tokens[from + i] & 0xFFFFFFFFL));
        }
        return h;
    }

    /** A 64-bit finalizer (splitmix64's): every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
