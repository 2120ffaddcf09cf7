package dev.gale.runtime.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gale.runtime.SharedData;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Requests with fields of every JSON type and odd values get a 200 or a 400 with an error body, never a 500. */
class RequestFuzzTest {
    private static final List<String> FIELDS = List.of("model", "messages", "prompt", "max_tokens",
            "max_completion_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "stop", "n", "stream",
            "presence_penalty", "frequency_penalty", "logprobs", "ignore_eos", "echo", "best_of", "suffix");
    private static final List<String> VALUES = List.of("null", "true", "false", "-1", "0", "1", "2", "0.5", "2.5",
            "1e300", "-1e300", "2147483648", "99999999999999999999999", "\"\"", "\"x\"", "\"stories260K\"",
            "\"Once upon a time\"", "[]", "{}", "[1, 2, 3]", "[-5]", "[\"a\"]", "[\"a\", \"b\"]", "[[1, 2]]",
            "[{\"role\": \"user\", \"content\": \"hi\"}]", "[{\"role\": \"user\"}]", "[{\"content\": \"hi\"}]",
            "[{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"hi\"}]}]",
            "[{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]", "[null]", "[\"\\u0000\"]");

    private static GaleServer server;
    private static ApiClient api;

    @BeforeContainer
    static void start() throws Exception {
        server = GaleServer.start(ServerOptions.loopback(SharedData.model("stories260K.gguf")),
                new PrintStream(PrintStream.nullOutputStream()));
        api = new ApiClient(server.port());
    }

    @AfterContainer
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Provide
    Arbitrary<String> bodies() {
        Arbitrary<String> field = Arbitraries.of(FIELDS);
        Arbitrary<String> value = Arbitraries.of(VALUES);
        return Arbitraries.maps(field, value).ofMaxSize(8).map(m -> {
            StringBuilder sb = new StringBuilder("{");
            if (!m.containsKey("model")) {
                sb.append("\"model\": \"stories260K\", ");
            }
            if (!m.containsKey("max_tokens") && !m.containsKey("max_completion_tokens")) {
                sb.append("\"max_tokens\": 2, ");
            }
            m.forEach((k, v) -> sb.append('"').append(k).append("\": ").append(v).append(", "));
            sb.setLength(sb.length() - 2);
            return sb.append('}').toString();
        });
    }

    @Property(tries = 150)
    void neverAServerError(@ForAll("bodies") String body, @ForAll boolean chat) throws Exception {
        String path = chat ? "/v1/chat/completions" : "/v1/completions";
        HttpResponse<String> r = api.http.send(api.postRequest(path, body), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() == 200 || r.statusCode() == 400, r.statusCode() + " for " + body + ": " + r.body());
        if (r.statusCode() == 400) {
            JsonNode e = ApiClient.JSON.readTree(r.body()).get("error");
            assertTrue(e != null && e.get("message").isTextual(), r.body());
        } else if (!r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
            ObjectNode ok = (ObjectNode) ApiClient.JSON.readTree(r.body());
            assertTrue(ok.has("usage"), r.body());
        } else {
            assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
        }
    }
}
