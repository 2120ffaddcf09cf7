package dev.gale.model;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the shared, read-only test data lives: the {@code gale.shared.dir} system property (the build sets it to the
 * checkout's sibling {@code shared} folder), else {@code ../shared}. Tests that need a file skip themselves, with a
 * message saying what is missing, when the data is not there.
 */
public final class SharedTestData {
    private SharedTestData() {
    }

    /** The configured shared data folder, whether or not it exists. */
    public static Path location() {
        return Path.of(System.getProperty("gale.shared.dir", "../shared"));
    }

    /** The shared data folder; skips the calling test if it does not exist. */
    public static Path root() {
        Path root = location();
        Assumptions.assumeTrue(Files.isDirectory(root), () -> "shared test data not found at "
                + root.toAbsolutePath().normalize() + " (set -Dgale.shared.dir=...)");
        return root;
    }

    /** A file or folder under {@code <root>/models}; skips the calling test if it does not exist. */
    public static Path model(String relative) {
        Path p = root().resolve("models").resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), () -> "shared test file not found: " + p.toAbsolutePath().normalize());
        return p;
    }
}
