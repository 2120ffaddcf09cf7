package dev.gale.model.tensor;

/** IEEE half precision and bfloat16 conversions. */
public final class Float16 {
    private Float16() {}

    public static float toFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Round to nearest even, as ggml does. */
    public static short fromFloat(float f) {
        return Float.floatToFloat16(f);
    }

    /** The float nearest to {@code f} that fp16 can represent (round to nearest even). */
    public static float round(float f) {
        return Float.float16ToFloat(Float.floatToFloat16(f));
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float to bfloat16 with round to nearest even (NaN kept quiet), as ggml does. */
    public static short floatToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) {
            return (short) ((u >>> 16) | 64);
        }
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /** The float nearest to {@code f} that bfloat16 can represent. */
    public static float roundBf16(float f) {
        return bf16ToFloat(floatToBf16(f));
    }
}
