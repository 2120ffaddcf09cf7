package dev.gale.runtime.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gale.model.chat.ChatTemplate;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.runtime.generate.StopReason;
import dev.gale.runtime.scheduler.BatchScheduler;
import dev.gale.runtime.scheduler.GenerationRequest;
import dev.gale.runtime.scheduler.QueueFullException;
import dev.gale.runtime.scheduler.SequenceStats;
import dev.gale.runtime.scheduler.Ticket;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible HTTP API over a {@link BatchScheduler}: {@code POST /v1/chat/completions} and
 * {@code POST /v1/completions} (whole responses, or server-sent events with {@code "stream": true}),
 * {@code GET /v1/models}, {@code GET /health} and {@code GET /metrics} (Prometheus text format).
 *
 * <p>Each request is handled on its own virtual thread, which queues the completion and then writes the text that
 * the scheduler thread produces. A streaming client that goes away is noticed at the next write (a keep-alive
 * comment is sent while nothing else is), and its sequence is cancelled, which frees its KV blocks.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiServer.class);
    /** How long a stream may stay silent before a keep-alive comment goes out. */
    private static final long KEEP_ALIVE_MILLIS = 2000;
    /** Connections may wait this long between bytes (a long non-streamed completion writes nothing until the end). */
    private static final long IDLE_TIMEOUT_MILLIS = 3_600_000;
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    private final ObjectMapper json = new ObjectMapper();
    private final String modelId;
    private final Tokenizer tokenizer;
    private final BatchScheduler scheduler;
    private final RequestParser parser;
    private final ServerMetrics metrics;
    private final long created = System.currentTimeMillis() / 1000;
    private final Javalin app;

    /**
     * @param modelId   the name clients pass as {@code model}
     * @param tokenizer the model's tokenizer
     * @param template  renders chat messages into a prompt
     * @param scheduler runs the completions
     * @param host      address to listen on
     * @param port      port to listen on (0 = any free port; see {@link #port()})
     */
    public OpenAiServer(String modelId, Tokenizer tokenizer, ChatTemplate template, BatchScheduler scheduler,
                        String host, int port) {
        this.modelId = modelId;
        this.tokenizer = tokenizer;
        this.scheduler = scheduler;
        this.parser = new RequestParser(json, modelId, tokenizer, template, scheduler.options().contextLength());
        this.metrics = new ServerMetrics(scheduler);
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.concurrency.useVirtualThreads = true;
            config.http.compressionStrategy = CompressionStrategy.NONE;
            config.jetty.addConnector((server, httpConfig) -> {
                ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
                connector.setHost(host);
                connector.setPort(port);
                connector.setIdleTimeout(IDLE_TIMEOUT_MILLIS);
                return connector;
            });
            config.routes.post("/v1/chat/completions", ctx -> complete(ctx, true));
            config.routes.post("/v1/completions", ctx -> complete(ctx, false));
            config.routes.get("/v1/models", this::models);
            config.routes.get("/health", this::health);
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.scrape()));
            config.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e));
            config.routes.exception(HttpResponseException.class, (e, ctx) ->
                    error(ctx, new ApiException(e.getStatus(), "invalid_request_error", e.getMessage(), null, null)));
            config.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, new ApiException(500, "server_error", "internal error: " + e, null, null));
            });
        });
    }

    /** Starts listening. */
    public OpenAiServer start() {
        app.start();
        return this;
    }

    /** The port the server listens on. */
    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }

    /** 200 while the scheduler runs; 503 once it has stopped. */
    private void health(Context ctx) {
        boolean up = scheduler.isRunning();
        ctx.status(up ? 200 : 503).contentType("application/json")
                .result(json.createObjectNode().put("status", up ? "ok" : "unavailable").toString());
    }

    private void models(Context ctx) {
        ObjectNode root = json.createObjectNode();
        root.put("object", "list");
        ObjectNode m = root.putArray("data").addObject();
        m.put("id", modelId);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "gale");
        ctx.contentType("application/json").result(root.toString());
    }

    private void complete(Context ctx, boolean chat) throws Exception {
        long arrival = System.nanoTime();
        CompletionRequest req = parser.parse(ctx.bodyAsBytes(), chat);
        String id = (chat ? "chatcmpl-" : "cmpl-") + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        CompletionStream stream = new CompletionStream(id, tokenizer, req.stop(), metrics, arrival);
        Set<Integer> end = req.ignoreEos() ? Set.of() : tokenizer.endOfGenerationIds();
        Ticket ticket;
        try {
            ticket = scheduler.submit(new GenerationRequest(req.prompt(), req.params(), req.maxTokens(), end, stream));
        } catch (QueueFullException e) {
            metrics.recordRejected("queue_full");
            throw new ApiException(429, "server_overloaded", e.getMessage(), null, "queue_full");
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(chat ? "messages" : "prompt", "context_length_exceeded", e.getMessage());
        }
        Response response = new Response(id, chat);
        try {
            if (req.stream()) {
                stream(ctx, stream, response);
            } else {
                whole(ctx, stream, response);
            }
        } finally {
            // frees the sequence's KV blocks if this thread leaves early (the client went away, an error);
            // does nothing once the completion has ended
            ticket.cancel();
        }
    }

    private void whole(Context ctx, CompletionStream stream, Response response) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        while (true) {
            switch (stream.take()) {
                case CompletionStream.Text t -> text.append(t.text());
                case CompletionStream.Finished f -> {
                    ctx.contentType("application/json").result(response.whole(text.toString(), f).toString());
                    return;
                }
                case CompletionStream.Failed f -> throw new ApiException(500, "server_error",
                        "the completion failed: " + f.error().getMessage(), null, null);
            }
        }
    }

    private void stream(Context ctx, CompletionStream stream, Response response) throws InterruptedException {
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream; charset=utf-8");
        res.setHeader("Cache-Control", "no-cache");
        List<CompletionStream.Event> batch = new ArrayList<>();
        try {
            OutputStream out = res.getOutputStream();
            if (response.chat) {
                send(out, response.roleChunk());
                out.flush();
            }
            while (true) {
                CompletionStream.Event first = stream.poll(KEEP_ALIVE_MILLIS);
                if (first == null) {
                    out.write(KEEP_ALIVE);
                    out.flush();
                    continue;
                }
                batch.clear();
                batch.add(first);
                stream.drainTo(batch);
                for (CompletionStream.Event e : batch) {
                    switch (e) {
                        case CompletionStream.Text t -> send(out, response.textChunk(t.text()));
                        case CompletionStream.Finished f -> {
                            send(out, response.finalChunk(f));
                            out.write(DONE);
                            out.flush();
                            return;
                        }
                        case CompletionStream.Failed f -> {
                            ObjectNode err = json.createObjectNode();
                            errorBody(err, new ApiException(500, "server_error",
                                    "the completion failed: " + f.error().getMessage(), null, null));
                            send(out, err);
                            out.flush();
                            return;
                        }
                    }
                }
                out.flush();
            }
        } catch (IOException e) {
            LOG.info("{}: the client went away; cancelling", response.id);
        }
    }

    private void send(OutputStream out, ObjectNode event) throws IOException {
        out.write(("data: " + event + "\n\n").getBytes(StandardCharsets.UTF_8));
    }

    private void error(Context ctx, ApiException e) {
        ObjectNode root = json.createObjectNode();
        errorBody(root, e);
        ctx.status(e.status()).contentType("application/json").result(root.toString());
    }

    private static void errorBody(ObjectNode root, ApiException e) {
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        err.put("param", e.param());
        err.put("code", e.code());
    }

    private static String finishReason(StopReason r) {
        return switch (r) {
            case END_OF_TEXT, STOP_STRING, CANCELLED -> "stop";
            case MAX_TOKENS, CONTEXT_FULL -> "length";
        };
    }

    /** Builds one completion's response bodies and stream chunks in OpenAI's format. */
    private final class Response {
        final String id;
        final boolean chat;

        Response(String id, boolean chat) {
            this.id = id;
            this.chat = chat;
        }

        private ObjectNode envelope(boolean chunk) {
            ObjectNode root = json.createObjectNode();
            root.put("id", id);
            root.put("object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
            root.put("created", System.currentTimeMillis() / 1000);
            root.put("model", modelId);
            return root;
        }

        private ObjectNode choice(ObjectNode root, String finishReason) {
            ArrayNode choices = root.putArray("choices");
            ObjectNode c = choices.addObject();
            c.put("index", 0);
            c.putNull("logprobs");
            c.put("finish_reason", finishReason);
            return c;
        }

        private void usage(ObjectNode root, SequenceStats s) {
            ObjectNode u = root.putObject("usage");
            u.put("prompt_tokens", s.promptTokens());
            u.put("completion_tokens", s.generatedTokens());
            u.put("total_tokens", s.promptTokens() + s.generatedTokens());
            u.putObject("prompt_tokens_details").put("cached_tokens", s.cachedTokens());
        }

        ObjectNode whole(String text, CompletionStream.Finished f) {
            ObjectNode root = envelope(false);
            ObjectNode c = choice(root, finishReason(f.reason()));
            if (chat) {
                ObjectNode m = c.putObject("message");
                m.put("role", "assistant");
                m.put("content", text);
            } else {
                c.put("text", text);
            }
            usage(root, f.stats());
            return root;
        }

        ObjectNode roleChunk() {
            ObjectNode root = envelope(true);
            ObjectNode delta = choice(root, null).putObject("delta");
            delta.put("role", "assistant");
            delta.put("content", "");
            return root;
        }

        ObjectNode textChunk(String text) {
            ObjectNode root = envelope(true);
            ObjectNode c = choice(root, null);
            if (chat) {
                c.putObject("delta").put("content", text);
            } else {
                c.put("text", text);
            }
            return root;
        }

        ObjectNode finalChunk(CompletionStream.Finished f) {
            ObjectNode root = envelope(true);
            ObjectNode c = choice(root, finishReason(f.reason()));
            if (chat) {
                c.putObject("delta");
            } else {
                c.put("text", "");
            }
            usage(root, f.stats());
            return root;
        }
    }
}
