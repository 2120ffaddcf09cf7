package dev.gale.model.gguf;

import java.nio.file.Path;

/**
 * A GGUF file that cannot be read: corrupt, truncated, or using a feature Gale does not support.
 * The message always names the file, the field and the problem.
 */
public class GgufFormatException extends RuntimeException {
    private final Path file;
    private final String field;

    public GgufFormatException(Path file, String field, String problem) {
        super(file + ": " + field + ": " + problem);
        this.file = file;
        this.field = field;
    }

    public GgufFormatException(Path file, String field, String problem, Throwable cause) {
        super(file + ": " + field + ": " + problem, cause);
        this.file = file;
        this.field = field;
    }

    public Path file() {
        return file;
    }

    public String field() {
        return field;
    }
}
