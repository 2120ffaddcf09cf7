package dev.gale.runtime.kv;

/**
 * F32 keys and values stored in fixed-size blocks of positions. A sequence reaches its positions through a block
 * table: position {@code p} lives in block {@code table[p / blockSize]} at slot {@code p % blockSize}. Which block
 * belongs to which sequence is decided by a {@link BlockPool}; this class only holds the numbers.
 *
 * <p>Values are slot-major ({@code slot × vDim + e}). Keys are kept in groups of {@link #keyGroup()} slots, element-major
 * within a group ({@link #keyIndex}): with groups of 16, a 16-lane vector holds one element of 16 positions' keys, so
 * attention computes 16 scores at a time with no sum across the lanes of a vector. Blocks whose size is no multiple
 * of 16 keep groups of one slot (plain slot-major).
 */
public final class PagedKvCache {
    /** Slots of a key group where the block size allows it. */
    public static final int KEY_GROUP = 16;

    private final float[][][] keys;
    private final float[][][] values;
    private final int blocks;
    private final int blockSize;
    private final int keyGroup;
    private final int kvDim;

    /**
     * @param layers    transformer blocks
     * @param blocks    number of KV blocks
     * @param blockSize positions per block
     * @param kvDim     key width per position (all key heads)
     * @param vDim      value width per position (all value heads)
     */
    public PagedKvCache(int layers, int blocks, int blockSize, int kvDim, int vDim) {
        if (blocks <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("a KV cache needs at least one block of at least one position, got "
                    + blocks + " blocks of " + blockSize);
        }
        if ((long) blockSize * Math.max(kvDim, vDim) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV block of " + blockSize + " positions is too large for one array");
        }
        long bytes = bytesPerPosition(layers, kvDim, vDim) * blocks * blockSize;
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > free) {
            throw new IllegalArgumentException(String.format(
                    "KV cache for %d positions needs %.1f MiB but only %.1f MiB of heap is free; use a smaller "
                            + "--ctx-size or --kv-budget, or a larger -Xmx",
                    (long) blocks * blockSize, bytes / 1048576.0, free / 1048576.0));
        }
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.keyGroup = blockSize % KEY_GROUP == 0 ? KEY_GROUP : 1;
        this.kvDim = kvDim;
        this.keys = new float[layers][blocks][blockSize * kvDim];
        this.values = new float[layers][blocks][blockSize * vDim];
    }

    /** Bytes one position takes over all layers (keys and values). */
    public static long bytesPerPosition(int layers, int kvDim, int vDim) {
        return 4L * layers * ((long) kvDim + vDim);
    }

    public int blocks() {
        return blocks;
    }

    public int blockSize() {
        return blockSize;
    }

    /** Slots per key group: {@value #KEY_GROUP}, or 1 where the block size is no multiple of it. */
    public int keyGroup() {
        return keyGroup;
    }

    /**
     * Where element {@code e} (of {@code kvDim}) of the key at {@code slot} lies in its block's array:
     * {@code (slot / g) × g × kvDim + e × g + slot % g}, g = {@link #keyGroup()}.
     */
    public int keyIndex(int slot, int e) {
        int g = keyGroup;
        return (slot / g) * g * kvDim + e * g + slot % g;
    }

    /** Stores the key of one position ({@code kvDim} floats from {@code src[from..]}) at a slot of a block. */
    public void putKey(int layer, int block, int slot, float[] src, int from) {
        float[] dst = keys[layer][block];
        int g = keyGroup;
        int base = keyIndex(slot, 0);
        for (int e = 0; e < kvDim; e++) {
            dst[base + e * g] = src[from + e];
        }
    }

    /** The keys of one block of one layer: {@code blockSize × kvDim}, laid out as {@link #keyIndex} says. */
    public float[] keys(int layer, int block) {
        return keys[layer][block];
    }

    /** The values of one block of one layer: {@code blockSize × vDim}, slot-major. */
    public float[] values(int layer, int block) {
        return values[layer][block];
    }
}
