package dev.gale.model.tokenizer;

import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufMetadata;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes small tensor-less GGUF v3 files, to test tokenizers on vocabularies made up for the test. */
final class GgufTestWriter {
    private final Map<String, Object> values = new LinkedHashMap<>();

    GgufTestWriter put(String key, Object value) {
        values.put(key, value);
        return this;
    }

    /** Writes the file to {@code dir} and reads its metadata back. */
    GgufMetadata metadata(Path dir) {
        try {
            Path file = Files.createTempFile(dir, "vocab", ".gguf");
            Files.write(file, bytes());
            try (GgufFile f = GgufFile.open(file)) {
                return f.metadata();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    byte[] bytes() {
        Out out = new Out();
        out.u32(0x46554747);
        out.u32(3);
        out.u64(0);
        out.u64(values.size());
        for (Map.Entry<String, Object> e : values.entrySet()) {
            out.string(e.getKey());
            Object v = e.getValue();
            switch (v) {
                case String s -> {
                    out.u32(8);
                    out.string(s);
                }
                case Boolean b -> {
                    out.u32(7);
                    out.write(b ? 1 : 0);
                }
                case Integer i -> {
                    out.u32(4);
                    out.u32(i);
                }
                case String[] a -> {
                    out.u32(9);
                    out.u32(8);
                    out.u64(a.length);
                    for (String s : a) {
                        out.string(s);
                    }
                }
                case int[] a -> {
                    out.u32(9);
                    out.u32(5);
                    out.u64(a.length);
                    for (int x : a) {
                        out.u32(x);
                    }
                }
                case float[] a -> {
                    out.u32(9);
                    out.u32(6);
                    out.u64(a.length);
                    for (float x : a) {
                        out.u32(Float.floatToRawIntBits(x));
                    }
                }
                default -> throw new IllegalArgumentException("unsupported value " + v);
            }
        }
        return out.toByteArray();
    }

    private static final class Out extends ByteArrayOutputStream {
        void u32(int v) {
            writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        }

        void u64(long v) {
            writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            writeBytes(b);
        }
    }
}
