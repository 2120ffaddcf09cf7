package dev.gale.model.convert;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufTensorInfo;
import dev.gale.model.gguf.GgufValue;
import dev.gale.model.gguf.GgufWriter;
import dev.gale.model.tensor.Quantizer;
import dev.gale.model.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Requantizes an F32 / F16 / BF16 model, as llama-quantize does without an importance matrix: every matrix
 * ({@code *.weight} of rank 2 or more) becomes the target type, 1-D tensors stay (or become) F32, and the metadata is
 * copied with {@code general.file_type} and {@code general.quantization_version} set. For Q4_0, Q4_K and Q5_K the output
 * projection (output.weight, or token_embd.weight when the embeddings are tied) is Q6_K, as llama-quantize makes it
 * (Q8_0 where its rows are not whole super-blocks of 256). The mixes Q4_K_M and Q5_K_M ({@link MatrixTypes}) put Q6_K
 * where llama-quantize does. A matrix whose rows are not whole blocks of its type falls back to Q8_0 (or F16).
 */
public final class ModelQuantizer {
    private ModelQuantizer() {}

    /** Tensor count and bytes of each type written. */
    public record Summary(Map<GgmlType, long[]> byType, long fileBytes) {
    }

    public static Summary quantize(Path in, Path out, GgmlType type) throws IOException {
        if (!Quantizer.canQuantize(type)) {
            throw new IllegalArgumentException("cannot quantize to " + type
                    + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
        }
        return quantize(in, out, MatrixTypes.uniform(type));
    }

    /**
     * Requantizes {@code in} with the matrix types of {@code types} (one type, or a mix such as Q4_K_M), the output
     * projection of Q4_0, Q4_K and Q5_K in Q6_K ({@link MatrixTypes#withQuantizeOutput}).
     */
    public static Summary quantize(Path in, Path out, MatrixTypes matrixTypes) throws IOException {
        MatrixTypes types = matrixTypes.withQuantizeOutput();
        if (Files.exists(out) && Files.isSameFile(in, out)) {
            throw new IllegalArgumentException("the output file is the input file: " + out);
        }
        Map<GgmlType, long[]> byType = new TreeMap<>();
        try (GgufFile src = GgufFile.open(in)) {
            GgufWriter w = new GgufWriter();
            for (Map.Entry<String, GgufValue> e : src.metadata().asMap().entrySet()) {
                if (!e.getKey().equals("general.file_type") && !e.getKey().equals("general.quantization_version")) {
                    w.put(e.getKey(), e.getValue());
                }
            }
            w.put("general.quantization_version", GgufValue.ofUInt32(FileType.QUANTIZATION_VERSION));
            w.put("general.file_type", GgufValue.ofUInt32(types.fileType()));
            boolean tied = !src.hasTensor("output.weight");
            String layersKey = src.metadata().getString("general.architecture", "") + ".block_count";
            int layers = src.metadata().contains(layersKey) ? src.metadata().getInt(layersKey) : 0;
            for (GgufTensorInfo t : src.tensors()) {
                GgmlType from = t.type();
                if (from != GgmlType.F32 && from != GgmlType.F16 && from != GgmlType.BF16) {
                    throw new IllegalArgumentException(in + ": tensor '" + t.name() + "' is " + from
                            + "; quantize from an F32, F16 or BF16 model");
                }
                boolean matrix = t.rank() >= 2 && t.name().endsWith(".weight");
                GgmlType target = GgmlType.F32;
                if (matrix) {
                    target = FileType.storable(types.of(t.name(), layers, tied), t.dimension(0));
                }
                Tensor source = new Tensor(t.name(), from, t.dimensions(), src.tensorData(t));
                GgmlType to = target;
                w.addTensor(t.name(), to, t.dimensions(), dst -> Quantizer.quantizeRows(to, source.rows(),
                        source.rowLength(), (r, row) -> source.dequantizeRow(Math.toIntExact(r), row, 0), dst));
                long[] acc = byType.computeIfAbsent(to, k -> new long[2]);
                acc[0]++;
                acc[1] += to.byteSize(t.elementCount());
            }
            w.write(out);
        }
        return new Summary(byType, Files.size(out));
    }
}
