package dev.gale.runtime;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A class's {@code main} in a JVM of its own, started as Gale is (this JVM's java, the test class path, the
 * engine's JVM options): for the CLI and the server as a user runs them, and for measurements that depend on what
 * the JIT makes of the kernels, which depends on everything the JVM ran before (a test JVM has run many models, a
 * user's JVM runs one).
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** The command line that runs {@code main} with {@code args}. */
    public static List<String> command(Class<?> main, String... args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-cp",
                System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs {@code main} to its end (at most 120 s) and returns its output, stderr included. */
    public static String run(Class<?> main, String... args) throws Exception {
        List<String> cmd = command(main, args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not finish: " + cmd);
        }
        return out;
    }

    /** The value of the last output line that starts with {@code key + " "}, or "" if none. */
    public static String last(String output, String key) {
        return output.lines().filter(l -> l.startsWith(key + " ")).reduce("", (a, b) -> b.substring(key.length() + 1));
    }
}
