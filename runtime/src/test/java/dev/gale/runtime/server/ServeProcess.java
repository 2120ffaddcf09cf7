package dev.gale.runtime.server;

import dev.gale.runtime.ChildJvm;
import dev.gale.runtime.cli.GaleCli;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code gale serve} in a child JVM, as a user starts it; closing it stops the server (SIGTERM). */
final class ServeProcess implements AutoCloseable {
    private static final Pattern SERVING = Pattern.compile("gale: serving (\\S+) on http://[^:]+:(\\d+)/v1");

    private final Process process;
    private final StringBuffer log = new StringBuffer();
    final String model;
    final int port;

    ServeProcess(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("serve", "--port", "0"));
        cmd.addAll(List.of(args));
        cmd = ChildJvm.command(GaleCli.class, cmd.toArray(String[]::new));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        process.getOutputStream().close();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Matcher> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    log.append(line).append('\n');
                    Matcher m = SERVING.matcher(line);
                    if (m.find()) {
                        ready.complete(m);
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
            ready.complete(null);
        }, "serve-output");
        reader.setDaemon(true);
        reader.start();
        Matcher m;
        try {
            m = ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new AssertionError("gale serve did not start: " + e + "\n" + log);
        }
        if (m == null) {
            throw new AssertionError("gale serve exited before serving:\n" + log);
        }
        this.model = m.group(1);
        this.port = Integer.parseInt(m.group(2));
    }

    /** Everything the server printed so far. */
    String log() {
        return log.toString();
    }

    /** Stops the server as Ctrl-C would; fails if it does not end. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gale serve did not stop on SIGTERM:\n" + log);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop();
        }
    }
}
