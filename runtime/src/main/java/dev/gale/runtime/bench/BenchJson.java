package dev.gale.runtime.bench;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Path;

/** A {@link BenchReport} as JSON, and back. */
public final class BenchJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private BenchJson() {}

    public static void write(BenchReport report, Path file) throws IOException {
        MAPPER.writeValue(file.toFile(), report);
    }

    /** Reads a report written by {@link #write}; a file that is not one is an error naming the file. */
    public static BenchReport read(Path file) throws IOException {
        if (!file.toFile().isFile()) {
            throw new java.nio.file.NoSuchFileException(file.toString());
        }
        try {
            BenchReport report = MAPPER.readValue(file.toFile(), BenchReport.class);
            if (report == null || report.results() == null || report.settings() == null) {
                throw new IllegalArgumentException(file + " is not a 'gale bench' result: no results or settings");
            }
            return report;
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + " is not a 'gale bench' result: " + e.getOriginalMessage(), e);
        }
    }
}
