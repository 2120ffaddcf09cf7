package dev.gale.model.gguf;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The key/value metadata of a GGUF file, in file order, with typed accessors whose errors name the key. */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, GgufValue> values;

    GgufMetadata(Path file, LinkedHashMap<String, GgufValue> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
    }

    /** All entries in file order. */
    public Map<String, GgufValue> asMap() {
        return values;
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    private GgufValue require(String key) {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new GgufFormatException(file, key, "required metadata key is missing");
        }
        return v;
    }

    private GgufFormatException wrongType(String key, GgufValue v, String wanted) {
        return new GgufFormatException(file, key, "expected " + wanted + " but the file has " + describe(v));
    }

    private static String describe(GgufValue v) {
        return v.isArray() ? "an array of " + v.elementType() : "a " + v.type();
    }

    public String getString(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof String s) {
            return s;
        }
        throw wrongType(key, v, "a STRING");
    }

    public Optional<String> findString(String key) {
        return contains(key) ? Optional.of(getString(key)) : Optional.empty();
    }

    public String getString(String key, String defaultValue) {
        return contains(key) ? getString(key) : defaultValue;
    }

    public long getLong(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof Long l) {
            return l;
        }
        throw wrongType(key, v, "an integer");
    }

    public int getInt(String key) {
        long l = getLong(key);
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new GgufFormatException(file, key, "value " + Long.toUnsignedString(l) + " is out of range");
        }
        return (int) l;
    }

    public int getInt(String key, int defaultValue) {
        return contains(key) ? getInt(key) : defaultValue;
    }

    public Optional<Integer> findInt(String key) {
        return contains(key) ? Optional.of(getInt(key)) : Optional.empty();
    }

    public double getDouble(String key) {
        GgufValue v = require(key);
        return switch (v.value()) {
            case Float f -> f;
            case Double d -> d;
            case Long l -> l;
            default -> throw wrongType(key, v, "a number");
        };
    }

    public float getFloat(String key, float defaultValue) {
        return contains(key) ? (float) getDouble(key) : defaultValue;
    }

    public Optional<Float> findFloat(String key) {
        return contains(key) ? Optional.of((float) getDouble(key)) : Optional.empty();
    }

    public boolean getBoolean(String key, boolean defaultValue) {
        if (!contains(key)) {
            return defaultValue;
        }
        GgufValue v = values.get(key);
        if (v.value() instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, v, "a BOOL");
    }

    public String[] getStringArray(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof String[] a) {
            return a;
        }
        throw wrongType(key, v, "an array of STRING");
    }

    public float[] getFloatArray(String key) {
        GgufValue v = require(key);
        return switch (v.value()) {
            case float[] a -> a;
            case double[] a -> {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    f[i] = (float) a[i];
                }
                yield f;
            }
            default -> throw wrongType(key, v, "an array of FLOAT32");
        };
    }

    public int[] getIntArray(String key) {
        GgufValue v = require(key);
        if (v.value() instanceof int[] a) {
            return a;
        }
        throw wrongType(key, v, "an array of 32-bit integers");
    }

    /** An integer array key whose values may also be given as a single integer (e.g. per-layer head counts). */
    public Optional<int[]> findIntOrIntArray(String key) {
        if (!contains(key)) {
            return Optional.empty();
        }
        GgufValue v = values.get(key);
        if (v.value() instanceof int[] a) {
            return Optional.of(a);
        }
        return Optional.of(new int[] {getInt(key)});
    }

    public int size() {
        return values.size();
    }
}
