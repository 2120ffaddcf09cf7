package dev.gale.runtime;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared test data (../shared beside the checkout, or -Dgale.shared.dir). */
public final class SharedData {
    private SharedData() {}

    public static Path root() {
        Path p = Path.of(System.getProperty("gale.shared.dir", "../shared")).toAbsolutePath().normalize();
        assumeTrue(Files.isDirectory(p.resolve("models")), "shared test data not found at " + p);
        return p;
    }

    public static Path model(String relative) {
        return root().resolve("models").resolve(relative);
    }

    public static Path golden(String name) {
        return root().resolve("golden").resolve(name);
    }
}
