package dev.gale.model.tokenizer;

/**
 * BPE merges as an open-addressing hash table: key = the two symbol ids packed into a long, value = the merge's
 * rank (its position in {@code tokenizer.ggml.merges}) and the id of the merged symbol.
 */
final class MergeTable {
    private static final long EMPTY = -1L;

    private final long[] keys;
    private final int[] ranks;
    private final int[] results;
    private final int mask;
    private int size;

    MergeTable(int expected) {
        // a power of two at least 1.5 times the entries: load factor at most 2/3 for linear probing
        int cap = Integer.highestOneBit(Math.max(16, expected + expected / 2) - 1) << 1;
        keys = new long[cap];
        java.util.Arrays.fill(keys, EMPTY);
        ranks = new int[cap];
        results = new int[cap];
        mask = cap - 1;
    }

    static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29));
    }

    /**
     * Adds a merge unless the pair is already present (the first, lowest-ranked occurrence wins); returns its slot
     * for {@link #setResult}, or -1 if the pair was there.
     */
    int insert(int left, int right, int rank) {
        long k = key(left, right);
        int i = hash(k) & mask;
        while (keys[i] != EMPTY) {
            if (keys[i] == k) {
                return -1;
            }
            i = (i + 1) & mask;
        }
        keys[i] = k;
        ranks[i] = rank;
        results[i] = -1;
        size++;
        return i;
    }

    void setResult(int slot, int result) {
        results[slot] = result;
    }

    /** The slot of the pair, or -1 if the pair does not merge. */
    int find(int left, int right) {
        if (left < 0 || right < 0) {
            return -1;
        }
        long k = key(left, right);
        int i = hash(k) & mask;
        long cur;
        while ((cur = keys[i]) != EMPTY) {
            if (cur == k) {
                return i;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    int rank(int slot) {
        return ranks[slot];
    }

    int result(int slot) {
        return results[slot];
    }

    int size() {
        return size;
    }
}
