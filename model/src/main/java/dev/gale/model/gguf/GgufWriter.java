package dev.gale.model.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF version 3 file: metadata of every value type (nested arrays included), tensor infos, and tensor data
 * aligned to {@code general.alignment} (32 unless the metadata sets it). Tensor bytes are produced on demand by a
 * {@link TensorData} writing straight into the mapped output file (from any threads), so files larger than the heap
 * can be written.
 * The file appears under its name only when complete (it is written beside it and then moved into place).
 */
public final class GgufWriter {
    /** Produces a tensor's bytes into {@code dst}, which is exactly the tensor's size. */
    @FunctionalInterface
    public interface TensorData {
        void write(MemorySegment dst);
    }

    private record PendingTensor(String name, GgmlType type, long[] dims, TensorData data) {
        long byteSize() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return type.byteSize(n);
        }
    }

    private final LinkedHashMap<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    /** Sets a metadata value (replacing any earlier one of the same key, which keeps its place). */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("metadata key is empty");
        }
        checkValue(key, value, 0);
        metadata.put(key, value);
        return this;
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /**
     * Adds a tensor. {@code dims} are in ggml order (row length first); the row length must be a multiple of the
     * type's block size.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorData data) {
        if (!tensorNames.add(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        if (dims.length < 1 || dims.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "': rank " + dims.length + " is outside 1.." + GgufFile.MAX_DIMS);
        }
        for (long d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("tensor '" + name + "': dimension " + d + " in " + Arrays.toString(dims));
            }
        }
        if (dims[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': row length " + dims[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        tensors.add(new PendingTensor(name, type, dims.clone(), data));
        return this;
    }

    /** Writes the file. */
    public void write(Path path) throws IOException {
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue a = metadata.get("general.alignment");
        if (a != null) {
            if (!(a.value() instanceof Long l) || l <= 0 || l > (1 << 20) || Long.bitCount(l) != 1) {
                throw new IllegalArgumentException("general.alignment must be a power of two, got " + a);
            }
            alignment = (int) (long) l;
        }
        Header h = new Header();
        h.u32(GgufFile.MAGIC);
        h.u32(3);
        h.u64(tensors.size());
        h.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.string(e.getKey());
            h.u32(e.getValue().type().id());
            h.value(e.getValue());
        }
        long[] offsets = new long[tensors.size()];
        long offset = 0;
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            h.string(t.name());
            h.u32(t.dims().length);
            for (long d : t.dims()) {
                h.u64(d);
            }
            h.u32(t.type().id());
            h.u64(offset);
            offsets[i] = offset;
            offset = align(offset + t.byteSize(), alignment);
        }
        long dataStart = align(h.size(), alignment);
        long total = dataStart + offset;

        Path tmp = path.resolveSibling(path.getFileName() + ".part");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.wrap(h.bytes(), 0, h.size());
            while (header.hasRemaining()) {
                ch.write(header);
            }
            for (int i = 0; i < tensors.size(); i++) {
                PendingTensor t = tensors.get(i);
                long size = t.byteSize();
                if (size == 0) {
                    continue;
                }
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment dst = ch.map(FileChannel.MapMode.READ_WRITE, dataStart + offsets[i], size, arena);
                    t.data().write(dst);
                }
            }
            if (ch.size() < total) {
                ch.write(ByteBuffer.allocate(1), total - 1);
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static long align(long n, int alignment) {
        return (n + alignment - 1) / alignment * alignment;
    }

    /** Checks that a value's Java representation matches its declared type (as {@link GgufValue} documents). */
    private static void checkValue(String key, GgufValue v, int depth) {
        if (v == null || v.type() == null) {
            throw new IllegalArgumentException("metadata '" + key + "': no value or type");
        }
        Object o = v.value();
        boolean ok = switch (v.type()) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> o instanceof Long;
            case FLOAT32 -> o instanceof Float;
            case FLOAT64 -> o instanceof Double;
            case BOOL -> o instanceof Boolean;
            case STRING -> o instanceof String;
            case ARRAY -> v.elementType() != null && switch (v.elementType()) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32 -> o instanceof int[];
                case UINT64, INT64 -> o instanceof long[];
                case FLOAT32 -> o instanceof float[];
                case FLOAT64 -> o instanceof double[];
                case BOOL -> o instanceof boolean[];
                case STRING -> o instanceof String[] a && Arrays.stream(a).allMatch(s -> s != null);
                case ARRAY -> o instanceof GgufValue[];
            };
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata '" + key + "': a " + v.type()
                    + (v.elementType() != null ? " of " + v.elementType() : "") + " cannot hold "
                    + (o == null ? "null" : o.getClass().getSimpleName()));
        }
        if (o instanceof GgufValue[] nested) {
            if (depth >= 8) {
                throw new IllegalArgumentException("metadata '" + key + "': arrays nested deeper than 8");
            }
            for (GgufValue n : nested) {
                if (n == null || n.type() != GgufValueType.ARRAY) {
                    throw new IllegalArgumentException("metadata '" + key + "': an array of ARRAY holds a non-array");
                }
                checkValue(key, n, depth + 1);
            }
        }
    }

    /** The header, little-endian. */
    private static final class Header extends ByteArrayOutputStream {
        Header() {
            super(1 << 16);
        }

        byte[] bytes() {
            return buf;
        }

        void u8(int v) {
            write(v);
        }

        void u16(int v) {
            write(v);
            write(v >>> 8);
        }

        void u32(long v) {
            for (int i = 0; i < 4; i++) {
                write((int) (v >>> (8 * i)));
            }
        }

        void u64(long v) {
            for (int i = 0; i < 8; i++) {
                write((int) (v >>> (8 * i)));
            }
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void value(GgufValue v) {
            Object o = v.value();
            switch (v.type()) {
                case UINT8, INT8 -> u8((int) (long) (Long) o);
                case UINT16, INT16 -> u16((int) (long) (Long) o);
                case UINT32, INT32 -> u32((Long) o);
                case UINT64, INT64 -> u64((Long) o);
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) o));
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) o));
                case BOOL -> u8((Boolean) o ? 1 : 0);
                case STRING -> string((String) o);
                case ARRAY -> array(v.elementType(), o);
            }
        }

        private void array(GgufValueType et, Object o) {
            u32(et.id());
            switch (o) {
                case int[] a -> {
                    u64(a.length);
                    for (int x : a) {
                        switch (et) {
                            case UINT8, INT8 -> u8(x);
                            case UINT16, INT16 -> u16(x);
                            default -> u32(x);
                        }
                    }
                }
                case long[] a -> {
                    u64(a.length);
                    for (long x : a) {
                        u64(x);
                    }
                }
                case float[] a -> {
                    u64(a.length);
                    for (float x : a) {
                        u32(Float.floatToRawIntBits(x));
                    }
                }
                case double[] a -> {
                    u64(a.length);
                    for (double x : a) {
                        u64(Double.doubleToRawLongBits(x));
                    }
                }
                case boolean[] a -> {
                    u64(a.length);
                    for (boolean x : a) {
                        u8(x ? 1 : 0);
                    }
                }
                case String[] a -> {
                    u64(a.length);
                    for (String x : a) {
                        string(x);
                    }
                }
                case GgufValue[] a -> {
                    u64(a.length);
                    for (GgufValue x : a) {
                        array(x.elementType(), x.value());
                    }
                }
                default -> throw new IllegalStateException("unchecked array value " + o);
            }
        }
    }
}
