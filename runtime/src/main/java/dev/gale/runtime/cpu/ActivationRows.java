package dev.gale.runtime.cpu;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Float16;

/**
 * A batch of activation rows ({@code n × width} floats) plus the forms the weight kernels read: rounded to fp16 or
 * bf16, or quantized to Q8_0 blocks. This mirrors ggml, which converts a matmul's input to the weight type's
 * "vec-dot type" first, so results match llama.cpp closely; the integer Q8_0 form is also the fast one.
 * Each form is computed at most once per {@link #set} and shared by every matrix that reads the same input.
 */
public final class ActivationRows {
    private final int capacityRows;
    private final int width;
    private int rows;
    final float[] values;
    final float[] rounded;
    final byte[] q8;
    final float[] q8Scale;
    /** Sum of each Q8_0 block's quants times its scale (for formats with an offset, e.g. Q4_K min). */
    final float[] q8Sum;
    private GgmlType roundedAs;
    private boolean quantized;

    public ActivationRows(int capacityRows, int width) {
        this.capacityRows = capacityRows;
        this.width = width;
        this.values = new float[capacityRows * width];
        this.rounded = new float[capacityRows * width];
        int blocks = capacityRows * ((width + 31) / 32);
        this.q8 = new byte[blocks * 32];
        this.q8Scale = new float[blocks];
        this.q8Sum = new float[blocks];
    }

    public int width() {
        return width;
    }

    public int rows() {
        return rows;
    }

    public float[] values() {
        return values;
    }

    /** Declares that {@code values[0 .. n*width)} hold new input; cached forms are dropped. */
    public void set(int n) {
        if (n > capacityRows) {
            throw new IllegalArgumentException(n + " rows > capacity " + capacityRows);
        }
        rows = n;
        roundedAs = null;
        quantized = false;
    }

    /** Makes sure the form {@code weightType} reads is ready. */
    void prepareFor(GgmlType weightType, WorkerPool pool) {
        switch (weightType) {
            case F16, BF16 -> {
                if (roundedAs != weightType) {
                    int n = rows * width;
                    if (weightType == GgmlType.F16) {
                        for (int i = 0; i < n; i++) {
                            rounded[i] = Float16.round(values[i]);
                        }
                    } else {
                        for (int i = 0; i < n; i++) {
                            rounded[i] = Float16.roundBf16(values[i]);
                        }
                    }
                    roundedAs = weightType;
                }
            }
            case Q8_0, Q4_0 -> {
                if (!quantized) {
                    quantizeQ8();
                    quantized = true;
                }
            }
            default -> { }
        }
    }

    /** ggml's quantize_row_q8_0: per block of 32, d = max|x| / 127, q = round(x / d), scale kept as fp16. */
    private void quantizeQ8() {
        int blocksPerRow = width / 32;
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocksPerRow; b++) {
                int base = r * width + b * 32;
                float amax = 0;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs(values[base + j]));
                }
                float d = amax / 127f;
                float id = d != 0 ? 1f / d : 0f;
                int blk = r * blocksPerRow + b;
                int sum = 0;
                for (int j = 0; j < 32; j++) {
                    int q = Math.round(Math.abs(values[base + j] * id));
                    q = values[base + j] < 0 ? -q : q;
                    q8[blk * 32 + j] = (byte) q;
                    sum += q;
                }
                float dh = Float16.round(d);
                q8Scale[blk] = dh;
                q8Sum[blk] = dh * sum;
            }
        }
    }
}
