package dev.gale.runtime.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gale.runtime.SharedData;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code gale serve} on stories260K over loopback, driven with Java's HttpClient. */
class OpenAiServerTest {
    private static final String MODEL = "stories260K";
    private static final String[] NAMES = {"Lily", "Tom", "Sue", "Ben", "Max", "Anna", "Tim", "Mia"};
    private static final String[] OPENINGS = {"Once upon a time, there was a girl named ", "One day, ",
            "The little dog saw ", "In the park, "};

    private static GaleServer server;
    private static ApiClient api;

    @BeforeAll
    static void start() throws Exception {
        server = GaleServer.start(ServerOptions.loopback(SharedData.model("stories260K.gguf")), quiet());
        api = new ApiClient(server.port());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static PrintStream quiet() {
        return new PrintStream(PrintStream.nullOutputStream());
    }

    /** 32 different prompts. */
    private static List<String> prompts() {
        List<String> out = new ArrayList<>();
        for (String opening : OPENINGS) {
            for (String name : NAMES) {
                out.add(opening + name);
            }
        }
        return out;
    }

    @Test
    void concurrentStreamsGetWhatEachGetsAlone() throws Exception {
        List<String> prompts = prompts();
        int maxTokens = 48;
        List<JsonNode> alone = new ArrayList<>();
        for (String p : prompts) {
            ApiClient.Reply r = api.post("/v1/completions", ApiClient.completion(MODEL, p, maxTokens).toString());
            assertEquals(200, r.status(), r.body().toString());
            alone.add(r.body());
        }
        double stepsBefore = api.metric("gale_steps_total");
        double seqsBefore = api.metric("gale_step_sequences_total");

        List<Future<ApiClient.Streamed>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String p : prompts) {
                futures.add(pool.submit(() -> api.stream("/v1/completions", ApiClient.completion(MODEL, p, maxTokens))));
            }
            for (int i = 0; i < prompts.size(); i++) {
                ApiClient.Streamed s = futures.get(i).get(120, TimeUnit.SECONDS);
                JsonNode expected = alone.get(i);
                assertTrue(s.done(), "request " + i + " ended with [DONE]");
                assertEquals(expected.at("/choices/0/text").asText(), s.text(), "request " + i + " text");
                assertEquals(expected.at("/choices/0/finish_reason").asText(), s.finishReason(), "request " + i);
                assertNotNull(s.usage(), "the final chunk carries usage");
                assertEquals(expected.at("/usage/completion_tokens").asInt(), s.usage().get("completion_tokens").asInt());
                assertEquals(expected.at("/usage/prompt_tokens").asInt(), s.usage().get("prompt_tokens").asInt());
            }
        }
        double meanBatch = (api.metric("gale_step_sequences_total") - seqsBefore)
                / (api.metric("gale_steps_total") - stepsBefore);
        assertTrue(meanBatch > 2, "the streams were decoded together (mean batch " + meanBatch + ")");
        assertEquals(0, api.metric("gale_kv_blocks_used"), "every KV block went back");
        assertEquals(0, api.metric("gale_batch_running"));
    }

    @Test
    void streamedAndWholeChatAgree() throws Exception {
        ObjectNode body = ApiClient.chat(MODEL, "Tell me a story about a cat.", 24);
        ApiClient.Reply whole = api.post("/v1/chat/completions", body.toString());
        assertEquals(200, whole.status());
        JsonNode b = whole.body();
        assertEquals("chat.completion", b.get("object").asText());
        assertEquals(MODEL, b.get("model").asText());
        assertEquals("assistant", b.at("/choices/0/message/role").asText());
        assertEquals("length", b.at("/choices/0/finish_reason").asText());
        assertEquals(24, b.at("/usage/completion_tokens").asInt());
        assertEquals(b.at("/usage/prompt_tokens").asInt() + 24, b.at("/usage/total_tokens").asInt());

        ApiClient.Streamed s = api.stream("/v1/chat/completions", body);
        assertEquals(b.at("/choices/0/message/content").asText(), s.text());
        assertEquals("length", s.finishReason());
        assertTrue(s.done());
        assertTrue(s.usage().at("/prompt_tokens_details/cached_tokens").asInt() > 0,
                "the second request reuses the first one's prompt blocks");
    }

    @Test
    void stopStringEndsTheTextBeforeIt() throws Exception {
        ObjectNode body = ApiClient.completion(MODEL, "Once upon a time", 40);
        String full = api.post("/v1/completions", body.toString()).body().at("/choices/0/text").asText();
        int cut = full.indexOf(' ', 12);
        String stop = full.substring(cut, cut + 4);
        String expected = full.substring(0, full.indexOf(stop));
        body.putArray("stop").add(stop).add("no such text");
        JsonNode b = api.post("/v1/completions", body.toString()).body();
        assertEquals(expected, b.at("/choices/0/text").asText());
        assertEquals("stop", b.at("/choices/0/finish_reason").asText());
        ApiClient.Streamed s = api.stream("/v1/completions", body);
        assertEquals(expected, s.text(), "streamed text holds back partial stop strings");
        assertEquals("stop", s.finishReason());
    }

    @Test
    void disconnectedClientsFreeTheirBlocks() throws Exception {
        // several long streams at once, so that each step takes long enough for the disconnects to be noticed
        // well before the streams could end by themselves
        int clients = 4;
        double cancelledBefore = cancelled();
        List<InputStream> bodies = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            ObjectNode body = ApiClient.completion(MODEL, OPENINGS[i], 500);
            body.put("ignore_eos", true);
            body.put("stream", true);
            HttpResponse<InputStream> r = api.http.send(api.postRequest("/v1/completions", body.toString()),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, r.statusCode());
            bodies.add(r.body());
        }
        for (InputStream in : bodies) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            do {
                line = reader.readLine();
            } while (line != null && !line.startsWith("data: "));
            assertNotNull(line, "a first chunk arrived");
        }
        assertTrue(api.metric("gale_kv_blocks_used") > 0, "the streams hold KV blocks");
        for (InputStream in : bodies) {
            in.close();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (cancelled() < cancelledBefore + clients && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(cancelledBefore + clients, cancelled(), "the server cancelled every abandoned request");
        assertEquals(0, api.metric("gale_kv_blocks_used"), "their KV blocks went back");
    }

    private static double cancelled() throws Exception {
        double v = api.metric("gale_requests_total{outcome=\"cancelled\"}");
        return Double.isNaN(v) ? 0 : v;
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                Arguments.of("/v1/chat/completions", "{not json", null, null),
                Arguments.of("/v1/chat/completions", "[1, 2]", null, null),
                Arguments.of("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "model", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"gpt-4\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", "model", "model_not_found"),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\"}", "messages", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": []}", "messages", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}", "messages[0].role", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": 7}]}", "messages[0].content", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 2}", "n", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": \"hot\"}", "temperature", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": 3}", "temperature", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}", "max_tokens", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 1.5}", "max_tokens", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": \"yes\"}", "stream", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": 5}", "stop", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", "stop", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"seed\": \"x\"}", "seed", null),
                Arguments.of("/v1/chat/completions", "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", \"content\": \"" + "story ".repeat(600) + "\"}]}", "messages", "context_length_exceeded"),
                Arguments.of("/v1/completions", "{\"model\": \"stories260K\"}", "prompt", null),
                Arguments.of("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": [1, 99999]}", "prompt", null),
                Arguments.of("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": [\"a\", \"b\"]}", "prompt", null),
                Arguments.of("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": {\"text\": \"a\"}}", "prompt", null),
                Arguments.of("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": \"hi\", \"top_p\": 0}", "top_p", null),
                Arguments.of("/v1/completions", "{\"model\": \"stories260K\", \"prompt\": \"hi\", \"logprobs\": 3}", "logprobs", null));
    }

    @ParameterizedTest
    @MethodSource("badRequests")
    void badRequestsGetAnOpenAiError(String path, String body, String param, String code) throws Exception {
        ApiClient.Reply r = api.post(path, body);
        assertEquals(400, r.status(), r.body().toString());
        JsonNode e = r.body().get("error");
        assertNotNull(e, r.body().toString());
        assertEquals("invalid_request_error", e.get("type").asText());
        assertFalse(e.get("message").asText().isBlank());
        assertEquals(param, e.get("param").isNull() ? null : e.get("param").asText(), e.toString());
        assertEquals(code, e.get("code").isNull() ? null : e.get("code").asText(), e.toString());
    }

    @Test
    void modelsHealthAndMetrics() throws Exception {
        ApiClient.Reply models = api.get("/v1/models");
        assertEquals(200, models.status());
        assertEquals(MODEL, models.body().at("/data/0/id").asText());
        assertEquals("model", models.body().at("/data/0/object").asText());
        assertEquals("ok", api.get("/health").body().get("status").asText());
        ApiClient.Reply missing = api.get("/v1/nothing");
        assertEquals(404, missing.status());
        assertNotNull(missing.body().get("error"));
        assertTrue(api.metric("gale_kv_blocks_capacity") > 0);
        assertFalse(Double.isNaN(api.metric("gale_queue_depth")));
        assertFalse(Double.isNaN(api.metric("gale_prefix_cache_hits_total")));
        assertFalse(Double.isNaN(api.metric("gale_prefix_cache_misses_total")));
        assertFalse(Double.isNaN(api.metric("gale_request_time_to_first_token_seconds_count")));
    }

    @Test
    void fullQueueIsAnswered429() throws Exception {
        ServerOptions tight = new ServerOptions(SharedData.model("stories260K.gguf"), "tiny", "127.0.0.1", 0, 1, 1,
                ServerOptions.DEFAULT_PREFILL_CHUNK, ServerOptions.DEFAULT_BLOCK_SIZE, null, 1, 0, "cpu", 0);
        try (GaleServer small = GaleServer.start(tight, quiet())) {
            ApiClient c = new ApiClient(small.port());
            ObjectNode longRun = ApiClient.completion("tiny", "Once upon a time", 500);
            longRun.put("ignore_eos", true);
            longRun.put("stream", true);
            HttpResponse<InputStream> running = c.http.send(c.postRequest("/v1/completions", longRun.toString()),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = running.body()) {
                assertTrue(in.read() >= 0, "the first request is running");
                var waiting = c.http.sendAsync(c.postRequest("/v1/completions",
                        ApiClient.completion("tiny", "One day", 4).toString()), HttpResponse.BodyHandlers.ofString());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (c.metric("gale_queue_depth") < 1 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                ApiClient.Reply refused = c.post("/v1/completions", ApiClient.completion("tiny", "Hi", 4).toString());
                assertEquals(429, refused.status(), refused.body().toString());
                assertEquals("queue_full", refused.body().at("/error/code").asText());
                in.close();
                assertEquals(200, waiting.get(60, TimeUnit.SECONDS).statusCode(), "the queued request still completes");
            }
        }
    }

    @Test
    void samplingIsReproducibleWithASeed() throws Exception {
        ObjectNode body = ApiClient.completion(MODEL, "Once upon a time", 32);
        body.put("temperature", 0.9);
        body.put("top_k", 40);
        body.put("top_p", 0.95);
        body.put("min_p", 0.05);
        body.put("presence_penalty", 0.5);
        body.put("frequency_penalty", 0.5);
        body.put("seed", 1234);
        String first = api.post("/v1/completions", body.toString()).body().at("/choices/0/text").asText();
        String second = api.post("/v1/completions", body.toString()).body().at("/choices/0/text").asText();
        assertEquals(first, second, "the same seed gives the same text");
    }
}
