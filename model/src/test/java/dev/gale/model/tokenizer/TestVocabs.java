package dev.gale.model.tokenizer;

import dev.gale.model.SharedTestData;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The shared vocabulary files, each read and built once per test run. */
final class TestVocabs {
    static final String LLAMA_SPM = "vocab/ggml-vocab-llama-spm.gguf";
    static final String PHI3 = "vocab/ggml-vocab-phi-3.gguf";
    static final String GPT2 = "vocab/ggml-vocab-gpt-2.gguf";
    static final String LLAMA3 = "vocab/vocab-llama3-bpe.derived.gguf";
    static final String QWEN2 = "vocab/vocab-qwen2-bpe.derived.gguf";
    static final String STORIES = "stories260K.gguf";

    private static final Map<String, GgufMetadata> METADATA = new ConcurrentHashMap<>();
    private static final Map<String, Tokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private TestVocabs() {
    }

    /** The metadata of a file under the shared models folder (skips the test if it is absent). */
    static GgufMetadata metadata(String relative) {
        Path path = SharedTestData.model(relative);
        return METADATA.computeIfAbsent(relative, k -> {
            try (GgufFile f = GgufFile.open(path)) {
                return f.metadata();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The tokenizer of a file under the shared models folder (skips the test if it is absent). */
    static Tokenizer tokenizer(String relative) {
        GgufMetadata md = metadata(relative);
        return TOKENIZERS.computeIfAbsent(relative, k -> Tokenizers.fromGguf(md));
    }
}
