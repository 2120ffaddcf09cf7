package dev.gale.runtime.bench;

import dev.gale.model.convert.MatrixTypes;
import dev.gale.model.convert.ModelShape;
import dev.gale.model.convert.ModelSynthesizer;
import dev.gale.model.gguf.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Models of real shapes ({@link ModelShape}, e.g. {@code llama-3.2-1b}) with seeded random weights, written to a
 * temporary folder for one benchmark run and deleted when it closes: speed depends on the shapes and weight types,
 * not on the weights' values.
 */
public final class SyntheticModels implements AutoCloseable {
    private final Path dir;
    private final List<Path> files = new ArrayList<>();

    public SyntheticModels() throws IOException {
        dir = Files.createTempDirectory("gale-bench-");
        dir.toFile().deleteOnExit();
    }

    /** Writes {@code shape} with {@code type} weights and the tokenizer of {@code vocab}; returns the file. */
    public Path write(ModelShape shape, GgmlType type, Path vocab, long seed) throws IOException {
        return write(shape, MatrixTypes.uniform(type), vocab, seed);
    }

    /** Writes {@code shape} with the matrix types {@code types} (e.g. Q4_K_M); returns the file. */
    public Path write(ModelShape shape, MatrixTypes type, Path vocab, long seed) throws IOException {
        Path out = dir.resolve(shape.name() + "-" + type.name() + ".gguf");
        out.toFile().deleteOnExit();
        files.add(out);
        ModelSynthesizer.write(shape, type, vocab, out, seed);
        return out;
    }

    @Override
    public void close() throws IOException {
        for (Path f : files) {
            Files.deleteIfExists(f);
        }
        Files.deleteIfExists(dir);
    }
}
