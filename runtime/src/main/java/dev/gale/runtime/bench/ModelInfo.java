package dev.gale.runtime.bench;

import dev.gale.model.Model;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufTensorInfo;
import java.util.EnumMap;
import java.util.Map;

/**
 * The model a result was measured on.
 *
 * @param file          file name (without its folder)
 * @param name          {@code general.name}
 * @param architecture  GGUF architecture, e.g. {@code llama}
 * @param weightType    the tensor type that holds most of the weight bytes (e.g. Q4_0 for a Q4_0 file whose output
 *                      matrix is Q8_0)
 * @param parameters    number of weights
 * @param fileBytes     size of the file
 * @param contextLength trained context length
 */
public record ModelInfo(String file, String name, String architecture, String weightType, long parameters,
                        long fileBytes, int contextLength) {

    public static ModelInfo of(Model model) {
        Map<GgmlType, Long> bytesByType = new EnumMap<>(GgmlType.class);
        long parameters = 0;
        for (GgufTensorInfo t : model.gguf().tensors()) {
            bytesByType.merge(t.type(), t.byteSize(), Long::sum);
            parameters += t.elementCount();
        }
        String type = bytesByType.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(e -> e.getKey().name()).orElse("none");
        return new ModelInfo(model.path().getFileName().toString(), model.config().name(),
                model.config().architecture().ggufName(), type, parameters, model.gguf().fileSize(),
                model.config().contextLength());
    }

    /** The file name without {@code .gguf}. */
    public String baseName() {
        return file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
    }

    /** File name and weight type, for tables and charts. */
    public String label() {
        String base = baseName();
        return base.toUpperCase().contains(weightType) ? base : base + " " + weightType;
    }
}
