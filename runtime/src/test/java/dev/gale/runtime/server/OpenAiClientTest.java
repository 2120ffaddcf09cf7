package dev.gale.runtime.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gale.runtime.SharedData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs {@code src/test/js/openai-client.test.mjs} (the official openai npm client) with Node against
 * {@code gale serve} on stories260K, started as a user would on an ephemeral loopback port. Skipped when Node or the client's node_modules are missing
 * ({@code npm ci --prefix runtime/src/test/js} installs them).
 */
class OpenAiClientTest {
    private static final Path JS = Path.of("src/test/js");

    @Test
    void officialClientWorksAgainstTheServer() throws Exception {
        assumeTrue(nodeVersion() != null, "node is not installed: skipping the openai npm client test");
        assumeTrue(Files.isDirectory(JS.resolve("node_modules/openai")),
                "the openai npm client is not installed: run 'npm ci' in runtime/src/test/js");
        try (ServeProcess server = new ServeProcess("--model", SharedData.model("stories260K.gguf").toString())) {
            ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec", "openai-client.test.mjs")
                    .directory(JS.toFile()).redirectErrorStream(true);
            pb.environment().put("GALE_BASE_URL", "http://127.0.0.1:" + server.port + "/v1");
            pb.environment().put("GALE_MODEL", server.model);
            Process p = pb.start();
            String output;
            try (var in = p.getInputStream()) {
                output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the node test finished in time");
            assertEquals(0, p.exitValue(), "node test output:\n" + output + "\nserver log:\n" + server.log());
            assertTrue(server.log().contains("chatcmpl-"), "requests are logged:\n" + server.log());
        }
    }

    /** {@code node --version}, or null if node cannot run. */
    private static String nodeVersion() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? v : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
