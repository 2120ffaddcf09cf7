package dev.gale.model.gguf;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the shared GGUF test files (../shared/models, or -Dgale.shared.dir). */
final class GgufTestFiles {
    private GgufTestFiles() {}

    static Path model(String relative) {
        Path root = Path.of(System.getProperty("gale.shared.dir", "../shared")).toAbsolutePath().normalize();
        Path p = root.resolve("models").resolve(relative);
        assumeTrue(Files.isRegularFile(p), "shared test model not found: " + p);
        return p;
    }
}
