package dev.gale.runtime.backend;

/** Small helpers over logit vectors. */
public final class Logits {
    private Logits() {}

    /** Index of the largest value; the lowest index wins ties. */
    public static int argmax(float[] logits) {
        return argmax(logits, 0, logits.length);
    }

    public static int argmax(float[] logits, int offset, int length) {
        int best = 0;
        float bv = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < length; i++) {
            float v = logits[offset + i];
            if (v > bv) {
                bv = v;
                best = i;
            }
        }
        return best;
    }
}
