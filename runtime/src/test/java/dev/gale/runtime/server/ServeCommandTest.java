package dev.gale.runtime.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.runtime.SharedData;
import dev.gale.runtime.cli.GaleCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code gale serve} from the command line. */
class ServeCommandTest {

    @Test
    void servesUntilStopped() throws Exception {
        try (ServeProcess server = new ServeProcess("--model", SharedData.model("stories260K.gguf").toString(),
                "--alias", "stories", "--max-batch", "4", "--kv-budget", "1024tok", "--threads", "1")) {
            assertEquals("stories", server.model);
            assertTrue(server.log().contains("KV cache 64 blocks of 16"), server.log());
            ApiClient api = new ApiClient(server.port);
            ApiClient.Reply r = api.post("/v1/completions", ApiClient.completion("stories", "Once upon a time", 5).toString());
            assertEquals(200, r.status(), r.body().toString());
            assertEquals(5, r.body().at("/usage/completion_tokens").asInt());
            server.stop();
        }
    }

    @Test
    void badOptionsAreClearErrors() {
        assertEquals(2, run("serve", "--model", "x.gguf", "--kv-budget", "lots").exit, "an unparsable budget is a usage error");
        Run r = run("serve", "--model", SharedData.model("stories260K.gguf").toString(), "--max-batch", "0");
        assertEquals(1, r.exit);
        assertTrue(r.err.contains("--max-batch must be > 0"), r.err);
        r = run("serve", "--model", SharedData.model("stories260K.gguf").toString(), "--ctx-size", "100000");
        assertEquals(1, r.exit);
        assertTrue(r.err.contains("exceeds the model's trained context 512"), r.err);
    }

    private record Run(int exit, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cl = GaleCli.commandLine();
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        int exit = cl.execute(args);
        return new Run(exit, err.toString(StandardCharsets.UTF_8));
    }
}
