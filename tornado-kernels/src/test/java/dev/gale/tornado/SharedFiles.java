package dev.gale.tornado;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The shared test data (../shared beside the checkout, or -Dgale.shared.dir). */
final class SharedFiles {
    private SharedFiles() {}

    static Path root() {
        Path p = Path.of(System.getProperty("gale.shared.dir", "../shared")).toAbsolutePath().normalize();
        assumeTrue(Files.isDirectory(p.resolve("models")), "shared test data not found at " + p);
        return p;
    }

    /** The model a golden file was made from ({@code tiny-*} files live in {@code models/tiny}). */
    static Path modelOf(String modelName) {
        return root().resolve("models").resolve(modelName.startsWith("tiny-") ? "tiny/" + modelName : modelName);
    }
}
