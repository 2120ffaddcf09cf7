package dev.gale.model.gguf;

import java.util.Arrays;

/**
 * One metadata value. Scalars are held as {@link Long} (every integer type; UINT64 keeps its bits), {@link Float},
 * {@link Double}, {@link Boolean} or {@link String}. Arrays are held as a Java array: {@code int[]} for integer
 * types up to 32 bits (UINT32 keeps its bits), {@code long[]} for 64-bit integers, {@code float[]}, {@code double[]},
 * {@code boolean[]} or {@code String[]}; nested arrays as {@code GgufValue[]}.
 *
 * @param type        the value's type
 * @param elementType for arrays, the element type; otherwise null
 * @param value       the value as described above
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public static GgufValue ofString(String s) {
        return new GgufValue(GgufValueType.STRING, null, s);
    }

    public static GgufValue ofUInt32(long v) {
        return new GgufValue(GgufValueType.UINT32, null, v);
    }

    public static GgufValue ofInt32(int v) {
        return new GgufValue(GgufValueType.INT32, null, (long) v);
    }

    public static GgufValue ofFloat32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, null, v);
    }

    public static GgufValue ofBool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    /**
     * An array of {@code elementType}; {@code values} is the Java array the reader produces for that type
     * (see the class comment).
     */
    public static GgufValue ofArray(GgufValueType elementType, Object values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, values);
    }

    public boolean isArray() {
        return type == GgufValueType.ARRAY;
    }

    /** Number of elements of an array value; 1 for a scalar. */
    public int length() {
        if (!isArray()) {
            return 1;
        }
        return switch (value) {
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case Object[] a -> a.length;
            default -> throw new IllegalStateException("not an array: " + value);
        };
    }

    @Override
    public String toString() {
        if (!isArray()) {
            return type == GgufValueType.STRING ? '"' + (String) value + '"' : String.valueOf(value);
        }
        int n = length();
        String head = switch (value) {
            case int[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(n, 8)));
            case long[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(n, 8)));
            case float[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(n, 8)));
            case double[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(n, 8)));
            case boolean[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(n, 8)));
            case Object[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(n, 8)));
            default -> "?";
        };
        return elementType + "[" + n + "] " + (n > 8 ? head.substring(0, head.length() - 1) + ", ...]" : head);
    }
}
