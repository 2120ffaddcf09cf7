package dev.gale.model.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A GGUF file, memory-mapped read-only. The header (metadata and tensor infos) is parsed once; tensor data is never
 * copied: {@link #tensorData} returns a slice of the mapping. Closing the file unmaps it, after which segments
 * handed out are no longer accessible.
 *
 * <p>Every malformed input is reported as a {@link GgufFormatException} that names the file, the field and the
 * problem; counts and lengths are checked against the bytes left in the file before anything is allocated.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's limit on tensor rank. */
    public static final int MAX_DIMS = 4;
    private static final int MAX_ARRAY_NESTING = 8;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment mapping) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        Parser p = new Parser(path, mapping);
        long magic = p.u32("magic");
        if ((int) magic != MAGIC) {
            throw new GgufFormatException(path, "magic",
                    String.format("not a GGUF file (bad magic 0x%08x, expected 0x%08x \"GGUF\")", magic, MAGIC));
        }
        long v = p.u32("version");
        if (v == 1) {
            throw new GgufFormatException(path, "version",
                    "GGUF version 1 is not supported (only versions 2 and 3); re-convert the model with a current tool");
        }
        if (v != 2 && v != 3) {
            throw new GgufFormatException(path, "version", "unsupported GGUF version " + v + " (supported: 2, 3)");
        }
        this.version = (int) v;
        long tensorCount = p.u64("tensor_count");
        long kvCount = p.u64("metadata_kv_count");
        // every KV needs at least 8 (key length) + 4 (type) + 1 bytes; every tensor info at least 8 + 4 + 4 + 8.
        p.checkCount("metadata_kv_count", kvCount, 13);
        p.checkCount("tensor_count", tensorCount, 24);

        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = p.string("metadata key #" + i);
            int typeId = (int) p.u32("type of metadata '" + key + "'");
            GgufValueType type = GgufValueType.fromId(typeId);
            if (type == null) {
                throw new GgufFormatException(path, key, "unknown metadata value type " + Integer.toUnsignedString(typeId));
            }
            GgufValue value = p.value(key, type, 0);
            if (kv.put(key, value) != null) {
                throw new GgufFormatException(path, key, "duplicate metadata key");
            }
        }
        this.metadata = new GgufMetadata(path, kv);
        int align = DEFAULT_ALIGNMENT;
        if (metadata.contains("general.alignment")) {
            long a = metadata.getLong("general.alignment");
            if (a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1) {
                throw new GgufFormatException(path, "general.alignment", "alignment " + a + " is not a power of two");
            }
            align = (int) a;
        }
        this.alignment = align;

        List<GgufTensorInfo> infos = new ArrayList<>((int) tensorCount);
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = p.string("tensor #" + i + " name");
            String where = "tensor '" + name + "'";
            if (!names.add(name)) {
                throw new GgufFormatException(path, where, "duplicate tensor name");
            }
            long nDims = p.u32(where + " n_dims");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufFormatException(path, where + " n_dims", "rank " + nDims + " is outside 1.." + MAX_DIMS);
            }
            long[] dims = new long[(int) nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = p.u64(where + " dimension " + d);
                if (dims[d] <= 0 || dims[d] > (1L << 40)) {
                    throw new GgufFormatException(path, where + " dimension " + d,
                            "dimension " + Long.toUnsignedString(dims[d]) + " is not a sane size");
                }
                elements = Math.multiplyHigh(elements, dims[d]) != 0 || elements * dims[d] < 0
                        ? -1 : elements * dims[d];
                if (elements < 0 || elements > (1L << 42)) {
                    throw new GgufFormatException(path, where, "element count overflows");
                }
            }
            long typeId = p.u32(where + " type");
            GgmlType type = GgmlType.fromId(typeId);
            if (type == null) {
                throw new GgufFormatException(path, where + " type", "unknown ggml tensor type " + typeId);
            }
            if (dims[0] % type.blockSize() != 0) {
                throw new GgufFormatException(path, where, "row length " + dims[0] + " is not a multiple of the "
                        + type + " block size " + type.blockSize());
            }
            long offset = p.u64(where + " offset");
            if (offset < 0 || offset % align != 0) {
                throw new GgufFormatException(path, where + " offset",
                        "offset " + Long.toUnsignedString(offset) + " is not aligned to " + align);
            }
            infos.add(new GgufTensorInfo(name, dims, type, offset));
        }
        long headerEnd = p.position();
        this.dataOffset = (headerEnd + align - 1) / align * align;
        long dataBytes = mapping.byteSize() - dataOffset;
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (GgufTensorInfo t : infos) {
            long size = t.byteSize();
            if (tensorCount > 0 && (dataBytes < 0 || t.offset() > dataBytes || size > dataBytes - t.offset())) {
                throw new GgufFormatException(path, "tensor '" + t.name() + "'", "data [" + t.offset() + ", "
                        + (t.offset() + size) + ") runs past the end of the file (" + Math.max(0, dataBytes)
                        + " data bytes); the file is truncated or corrupt");
            }
            byName.put(t.name(), t);
        }
        this.tensors = Collections.unmodifiableList(infos);
        this.tensorsByName = Collections.unmodifiableMap(byName);
    }

    /** Opens and maps a GGUF file, parsing its header. */
    public static GgufFile open(Path path) throws IOException {
        Path p = path.toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            throw new NoSuchFileException(p.toString(), null, "model file not found");
        }
        if (Files.isDirectory(p)) {
            throw new GgufFormatException(p, "file", "is a directory, not a GGUF file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 24) {
                throw new GgufFormatException(p, "header", "file is " + size + " bytes, too short to be a GGUF file");
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new GgufFile(p, arena, seg);
        } catch (RuntimeException | IOException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public GgufTensorInfo tensor(String name) {
        return tensorsByName.get(name);
    }

    public boolean hasTensor(String name) {
        return tensorsByName.containsKey(name);
    }

    public int alignment() {
        return alignment;
    }

    /** Byte offset of the tensor-data section in the file. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    /** The whole mapped file. */
    public MemorySegment mapping() {
        return mapping;
    }

    /** A zero-copy slice of the mapping holding the tensor's data. */
    public MemorySegment tensorData(GgufTensorInfo t) {
        return mapping.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    @Override
    public void close() {
        arena.close();
    }

    /** A bounds-checked little-endian cursor over the mapping. */
    private static final class Parser {
        private final Path path;
        private final MemorySegment seg;
        private long pos;

        Parser(Path path, MemorySegment seg) {
            this.path = path;
            this.seg = seg;
        }

        long position() {
            return pos;
        }

        private void need(String field, long bytes) {
            if (bytes < 0 || pos + bytes > seg.byteSize() || pos + bytes < 0) {
                throw new GgufFormatException(path, field, "unexpected end of file at byte " + pos
                        + " (needed " + bytes + " more bytes, file has " + seg.byteSize() + "); the file is truncated");
            }
        }

        void checkCount(String field, long count, long minBytesEach) {
            long left = seg.byteSize() - pos;
            if (count < 0 || (minBytesEach > 0 && count > left / minBytesEach)) {
                throw new GgufFormatException(path, field, "count " + Long.toUnsignedString(count)
                        + " is impossible for a file with " + left + " bytes left");
            }
        }

        long u32(String field) {
            need(field, 4);
            long v = Integer.toUnsignedLong(seg.get(U32, pos));
            pos += 4;
            return v;
        }

        long u64(String field) {
            need(field, 8);
            long v = seg.get(U64, pos);
            pos += 8;
            return v;
        }

        String string(String field) {
            long len = u64(field + " length");
            if (len < 0 || len > seg.byteSize() - pos) {
                throw new GgufFormatException(path, field, "string length " + Long.toUnsignedString(len)
                        + " runs past the end of the file");
            }
            byte[] bytes = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                // Some vocabularies hold partial UTF-8 sequences as token text; keep them losslessly readable.
                return new String(bytes, StandardCharsets.ISO_8859_1).codePoints()
                        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                        .toString();
            }
        }

        GgufValue value(String key, GgufValueType type, int depth) {
            return switch (type) {
                case UINT8 -> new GgufValue(type, null, (long) Byte.toUnsignedInt(i8(key)));
                case INT8 -> new GgufValue(type, null, (long) i8(key));
                case UINT16 -> new GgufValue(type, null, (long) Short.toUnsignedInt(i16(key)));
                case INT16 -> new GgufValue(type, null, (long) i16(key));
                case UINT32 -> new GgufValue(type, null, u32(key));
                case INT32 -> new GgufValue(type, null, (long) (int) u32(key));
                case UINT64, INT64 -> new GgufValue(type, null, u64(key));
                case FLOAT32 -> {
                    need(key, 4);
                    float f = seg.get(F32, pos);
                    pos += 4;
                    yield new GgufValue(type, null, f);
                }
                case FLOAT64 -> {
                    need(key, 8);
                    double d = seg.get(F64, pos);
                    pos += 8;
                    yield new GgufValue(type, null, d);
                }
                case BOOL -> {
                    byte b = i8(key);
                    if (b != 0 && b != 1) {
                        throw new GgufFormatException(path, key, "invalid BOOL byte " + b);
                    }
                    yield new GgufValue(type, null, b == 1);
                }
                case STRING -> new GgufValue(type, null, string(key));
                case ARRAY -> array(key, depth);
            };
        }

        private byte i8(String field) {
            need(field, 1);
            return seg.get(ValueLayout.JAVA_BYTE, pos++);
        }

        private short i16(String field) {
            need(field, 2);
            short s = seg.get(U16, pos);
            pos += 2;
            return s;
        }

        private GgufValue array(String key, int depth) {
            if (depth >= MAX_ARRAY_NESTING) {
                throw new GgufFormatException(path, key, "arrays nested deeper than " + MAX_ARRAY_NESTING);
            }
            int elemId = (int) u32(key + " array element type");
            GgufValueType et = GgufValueType.fromId(elemId);
            if (et == null) {
                throw new GgufFormatException(path, key, "unknown array element type " + Integer.toUnsignedString(elemId));
            }
            long n = u64(key + " array length");
            checkCount(key + " array length", n, et.minBytes());
            if (n > Integer.MAX_VALUE - 8) {
                throw new GgufFormatException(path, key, "array length " + n + " is too large");
            }
            int len = (int) n;
            Object arr = switch (et) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32 -> {
                    need(key, (long) len * et.minBytes());
                    int[] a = new int[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = switch (et) {
                            case UINT8 -> Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, pos + i));
                            case INT8 -> seg.get(ValueLayout.JAVA_BYTE, pos + i);
                            case UINT16 -> Short.toUnsignedInt(seg.get(U16, pos + 2L * i));
                            case INT16 -> seg.get(U16, pos + 2L * i);
                            default -> seg.get(U32, pos + 4L * i);
                        };
                    }
                    pos += (long) len * et.minBytes();
                    yield a;
                }
                case UINT64, INT64 -> {
                    need(key, 8L * len);
                    long[] a = new long[len];
                    MemorySegment.copy(seg, U64, pos, a, 0, len);
                    pos += 8L * len;
                    yield a;
                }
                case FLOAT32 -> {
                    need(key, 4L * len);
                    float[] a = new float[len];
                    MemorySegment.copy(seg, F32, pos, a, 0, len);
                    pos += 4L * len;
                    yield a;
                }
                case FLOAT64 -> {
                    need(key, 8L * len);
                    double[] a = new double[len];
                    MemorySegment.copy(seg, F64, pos, a, 0, len);
                    pos += 8L * len;
                    yield a;
                }
                case BOOL -> {
                    need(key, len);
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = seg.get(ValueLayout.JAVA_BYTE, pos + i) != 0;
                    }
                    pos += len;
                    yield a;
                }
                case STRING -> {
                    String[] a = new String[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = string(key + "[" + i + "]");
                    }
                    yield a;
                }
                case ARRAY -> {
                    GgufValue[] a = new GgufValue[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = array(key + "[" + i + "]", depth + 1);
                    }
                    yield a;
                }
            };
            return new GgufValue(GgufValueType.ARRAY, et, arr);
        }
    }
}
