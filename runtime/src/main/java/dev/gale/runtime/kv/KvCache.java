package dev.gale.runtime.kv;

/**
 * A contiguous F32 key/value cache for one sequence: for each layer, {@code capacity × kvDim} keys and
 * {@code capacity × vDim} values, position-major.
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int capacity;
    private final int kvDim;
    private final int vDim;

    public KvCache(int layers, int capacity, int kvDim, int vDim) {
        long bytes = 4L * layers * capacity * ((long) kvDim + vDim);
        if ((long) capacity * Math.max(kvDim, vDim) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV cache of " + capacity + " positions is too large for one layer array");
        }
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > free) {
            throw new IllegalArgumentException(String.format(
                    "KV cache for %d positions needs %.1f MiB but only %.1f MiB of heap is free; use a smaller --ctx-size or a larger -Xmx",
                    capacity, bytes / 1048576.0, free / 1048576.0));
        }
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.vDim = vDim;
        this.keys = new float[layers][capacity * kvDim];
        this.values = new float[layers][capacity * vDim];
    }

    public int capacity() {
        return capacity;
    }

    public float[] keys(int layer) {
        return keys[layer];
    }

    public float[] values(int layer) {
        return values[layer];
    }

    public int kvDim() {
        return kvDim;
    }

    public int vDim() {
        return vDim;
    }

    public static long bytes(int layers, int capacity, int kvDim, int vDim) {
        return 4L * layers * capacity * ((long) kvDim + vDim);
    }
}
