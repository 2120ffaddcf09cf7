package dev.gale.runtime.cpu;

import dev.gale.model.tensor.Float16;

/** Element-wise operations of the forward pass, with ggml's numerics where they matter. */
final class Activations {
    private Activations() {}

    private static final float GELU_COEF_A = 0.044715f;
    private static final float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;
    /** ggml's fp16 GELU table: gelu(x) for every fp16 x, rounded to fp16. */
    private static final float[] GELU_TABLE = new float[1 << 16];

    static {
        for (int i = 0; i < GELU_TABLE.length; i++) {
            float x = Float.float16ToFloat((short) i);
            GELU_TABLE[i] = Float16.round(geluTanh(x));
        }
    }

    static float geluTanh(float x) {
        return 0.5f * x * (1.0f + (float) Math.tanh(SQRT_2_OVER_PI * x * (1.0f + GELU_COEF_A * x * x)));
    }

    /** GELU as ggml computes it on the CPU: through the fp16 table inside (-10, 10). */
    static float gelu(float x) {
        if (x <= -10f) {
            return 0f;
        }
        if (x >= 10f) {
            return x;
        }
        return GELU_TABLE[Float.floatToFloat16(x) & 0xFFFF];
    }

    /** out = x / rms(x) * weight, accumulating the sum of squares in double as ggml does. */
    static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            sum += v * v;
        }
        float scale = 1.0f / (float) Math.sqrt((float) (sum / n) + eps);
        for (int i = 0; i < n; i++) {
            out[outOff + i] = (x[xOff + i] * scale) * weight[i];
        }
    }

    static float softcap(float x, float cap) {
        return cap * (float) Math.tanh(x / cap);
    }
}
