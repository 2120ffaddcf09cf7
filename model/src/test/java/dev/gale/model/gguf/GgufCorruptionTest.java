package dev.gale.model.gguf;

import dev.gale.model.Model;
import dev.gale.model.config.UnsupportedModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Mutated and truncated copies of real GGUF files must either open or fail with a {@link GgufFormatException}
 * (or, for a well-formed but unsupported model, an {@link UnsupportedModelException}): never an index exception,
 * an OutOfMemoryError or anything else.
 */
class GgufCorruptionTest {
    private static byte[] original;
    private static Path dir;

    @BeforeContainer
    static void load() throws IOException {
        original = Files.readAllBytes(GgufTestFiles.model("tiny/tiny-llama-q4_0.gguf"));
        dir = Files.createTempDirectory("gale-gguf-props");
    }

    @AfterContainer
    static void cleanup() throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    @Property(tries = 150)
    void truncatedFilesFailCleanly(@ForAll @IntRange(min = 0, max = 108735) int length) throws IOException {
        byte[] b = java.util.Arrays.copyOf(original, Math.min(length, original.length - 1));
        openExpectingCleanFailureOrSuccess(b);
    }

    @Property(tries = 300)
    void headerMutationsFailCleanly(@ForAll @IntRange(min = 0, max = 12000) int position,
                                    @ForAll byte value,
                                    @ForAll @IntRange(min = 1, max = 8) int run) throws IOException {
        byte[] b = original.clone();
        for (int i = 0; i < run && position + i < b.length; i++) {
            b[position + i] = (byte) (value + i * 37);
        }
        openExpectingCleanFailureOrSuccess(b);
    }

    private static void openExpectingCleanFailureOrSuccess(byte[] content) throws IOException {
        Path p = Files.createTempFile(dir, "m", ".gguf");
        Files.write(p, content);
        try (Model m = Model.open(p)) {
            // Opened: the header was consistent enough. Reading every tensor must also be safe.
            for (GgufTensorInfo t : m.gguf().tensors()) {
                m.gguf().tensorData(t).byteSize();
            }
        } catch (GgufFormatException | UnsupportedModelException expected) {
            if (expected.getMessage() == null || !expected.getMessage().contains(p.getFileName().toString())
                    && expected instanceof GgufFormatException) {
                throw new AssertionError("error does not name the file: " + expected.getMessage());
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }
}
