package dev.gale.runtime.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.stream.Stream;

/** A small client for the server's API in tests, on Java's HttpClient. */
final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    final String base;

    ApiClient(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    /** A status and a JSON body. */
    record Reply(int status, JsonNode body) {
    }

    /** What a stream delivered. */
    record Streamed(String text, String finishReason, JsonNode usage, int chunks, boolean done) {
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT);
    }

    HttpRequest postRequest(String path, String body) {
        return request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    Reply post(String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(postRequest(path, body), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), JSON.readTree(r.body()));
    }

    Reply get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), JSON.readTree(r.body()));
    }

    /** Sends a request with {@code "stream": true} and reads the whole event stream. */
    Streamed stream(String path, ObjectNode body) throws IOException, InterruptedException {
        body.put("stream", true);
        HttpResponse<Stream<String>> r = http.send(postRequest(path, body.toString()), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        int chunks = 0;
        boolean done = false;
        try (Stream<String> lines = r.body()) {
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: ")) {
                    continue;
                }
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                JsonNode chunk = JSON.readTree(data);
                chunks++;
                JsonNode choice = chunk.get("choices").get(0);
                JsonNode piece = choice.has("delta") ? choice.get("delta").get("content") : choice.get("text");
                if (piece != null && !piece.isNull()) {
                    text.append(piece.asText());
                }
                if (!choice.get("finish_reason").isNull()) {
                    finish = choice.get("finish_reason").asText();
                    usage = chunk.get("usage");
                }
            }
        }
        return new Streamed(text.toString(), finish, usage, chunks, done);
    }

    /** The value of an unlabelled (or exactly labelled) metric line in /metrics, or NaN if absent. */
    double metric(String nameWithLabels) throws IOException, InterruptedException {
        String text = http.send(request("/metrics").GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith(nameWithLabels + " ")) {
                return Double.parseDouble(line.substring(nameWithLabels.length() + 1).trim());
            }
        }
        return Double.NaN;
    }

    static ObjectNode completion(String model, String prompt, int maxTokens) {
        ObjectNode b = JSON.createObjectNode();
        b.put("model", model);
        b.put("prompt", prompt);
        b.put("max_tokens", maxTokens);
        b.put("temperature", 0);
        return b;
    }

    static ObjectNode chat(String model, String user, int maxTokens) {
        ObjectNode b = JSON.createObjectNode();
        b.put("model", model);
        b.putArray("messages").addObject().put("role", "user").put("content", user);
        b.put("max_tokens", maxTokens);
        b.put("temperature", 0);
        return b;
    }
}
