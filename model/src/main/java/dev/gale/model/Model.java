package dev.gale.model;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufTensorInfo;
import dev.gale.model.tensor.Tensor;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.model.tokenizer.Tokenizers;
import dev.gale.model.weights.ModelWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A model file opened for inference: the mapped GGUF, its configuration, tokenizer and weights.
 * Weights stay in the mapping (zero-copy); closing the model unmaps them.
 */
public final class Model implements AutoCloseable {
    private final GgufFile gguf;
    private final ModelConfig config;
    private final ModelWeights weights;
    private volatile Tokenizer tokenizer;

    private Model(GgufFile gguf) {
        this.gguf = gguf;
        this.config = ModelConfig.fromGguf(gguf);
        this.weights = ModelWeights.bind(this);
    }

    /** Opens a GGUF model file; errors name the file and the problem. */
    public static Model open(Path path) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            return new Model(gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    public GgufFile gguf() {
        return gguf;
    }

    public Path path() {
        return gguf.path();
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    /** The model's tokenizer, built on first use. */
    public Tokenizer tokenizer() {
        Tokenizer t = tokenizer;
        if (t == null) {
            synchronized (this) {
                t = tokenizer;
                if (t == null) {
                    t = Tokenizers.fromGguf(gguf.metadata());
                    tokenizer = t;
                }
            }
        }
        return t;
    }

    public Optional<Tensor> findTensor(String name) {
        GgufTensorInfo info = gguf.tensor(name);
        return info == null ? Optional.empty()
                : Optional.of(new Tensor(name, info.type(), info.dimensions(), gguf.tensorData(info)));
    }

    /** Total bytes of tensor data. */
    public long weightBytes() {
        long n = 0;
        for (GgufTensorInfo t : gguf.tensors()) {
            n += t.byteSize();
        }
        return n;
    }

    @Override
    public void close() {
        gguf.close();
    }
}
