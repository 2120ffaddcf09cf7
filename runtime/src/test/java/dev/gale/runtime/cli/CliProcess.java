package dev.gale.runtime.cli;

import dev.gale.runtime.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the CLI in a child JVM, as a user would, capturing stdout, stderr and the exit code. */
final class CliProcess {
    record Result(int exitCode, String stdout, String stderr) {
    }

    private CliProcess() {}

    static Result run(String... args) throws IOException, InterruptedException {
        List<String> cmd = ChildJvm.command(GaleCli.class, args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Path errFile = Files.createTempFile("gale-cli", ".err");
        pb.redirectError(errFile.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("CLI did not finish: " + cmd);
        }
        String err = Files.readString(errFile, StandardCharsets.UTF_8)
                .lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                .reduce("", (a, b) -> a + b + "\n");
        Files.deleteIfExists(errFile);
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), err);
    }
}
