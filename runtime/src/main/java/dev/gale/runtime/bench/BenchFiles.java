package dev.gale.runtime.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes a report into a folder: {@code results.json}, {@code results.csv}, {@code results.md} and the charts. */
public final class BenchFiles {
    public static final String JSON = "results.json";
    public static final String CSV = "results.csv";
    public static final String MARKDOWN = "results.md";

    private BenchFiles() {}

    /**
     * Creates {@code dir} when missing; returns the files written. Charts that cannot be drawn (a JVM without fonts
     * or AWT) are left out with a warning: the figures are in the other files.
     */
    public static List<Path> write(BenchReport report, Path dir, PrintStream warnings) throws IOException {
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>();
        BenchJson.write(report, dir.resolve(JSON));
        files.add(dir.resolve(JSON));
        BenchCsv.write(report, dir.resolve(CSV));
        files.add(dir.resolve(CSV));
        Files.writeString(dir.resolve(MARKDOWN), BenchMarkdown.render(report));
        files.add(dir.resolve(MARKDOWN));
        try {
            files.addAll(BenchCharts.write(report, dir));
        } catch (RuntimeException | LinkageError | InternalError e) {
            warnings.println("gale: warning: charts not drawn (" + e + "); the figures are in " + JSON + ", " + CSV
                    + " and " + MARKDOWN);
        }
        return files;
    }
}
