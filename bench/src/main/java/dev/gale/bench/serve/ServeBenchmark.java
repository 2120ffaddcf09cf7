package dev.gale.bench.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gale.bench.BenchArgs;
import dev.gale.model.Model;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.runtime.server.GaleServer;
import dev.gale.runtime.server.ServerOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Load benchmark for {@code gale serve} over loopback: aggregate decode throughput at several numbers of concurrent
 * streams, and the time to first token of two requests that share a long system prompt (prefix caching).
 *
 * <pre>
 * scripts/bench-serve --model FILE [--threads N] [--tokens 64] [--streams 1,4,16,32] [--system-tokens 200] [--repeat 3]
 * </pre>
 *
 * Each measurement is repeated and the best run is reported (the machine may be shared); {@code --system-tokens 0}
 * skips the prefix-cache measurement.
 */
public final class ServeBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] OPENINGS = {"Once upon a time, there was a ", "One day, a little ",
            "In the park, a ", "The sun was shining and a "};
    private static final String[] SUBJECTS = {"girl", "boy", "dog", "cat", "bird", "bear", "fish", "frog"};

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final String model;

    private ServeBenchmark(int port, String model) {
        this.base = "http://127.0.0.1:" + port;
        this.model = model;
    }

    /** One streamed request's outcome. */
    record Timed(long sentNanos, long firstTokenNanos, long endNanos, int completionTokens) {
    }

    /**
     * A run of concurrent streams: {@code decode} sums each stream's rate after its first token (the streams decode
     * at the same time, so this is the aggregate decode rate); {@code endToEnd} is all tokens over the whole run,
     * prompts included.
     */
    record Throughput(double decode, double endToEnd, double ttftMillis) {
        static Throughput of(List<Timed> run) {
            long start = run.stream().mapToLong(Timed::sentNanos).min().orElseThrow();
            long end = run.stream().mapToLong(Timed::endNanos).max().orElseThrow();
            int total = run.stream().mapToInt(Timed::completionTokens).sum();
            double decode = run.stream().filter(t -> t.endNanos() > t.firstTokenNanos())
                    .mapToDouble(t -> (t.completionTokens() - 1) * 1e9 / (t.endNanos() - t.firstTokenNanos())).sum();
            double ttft = run.stream().mapToLong(t -> t.firstTokenNanos() - t.sentNanos()).average().orElse(0) / 1e6;
            return new Throughput(decode, total * 1e9 / (end - start), ttft);
        }
    }

    /** The command line; {@code threads} 0 takes every core. */
    record Options(Path model, int threads, int tokens, int systemTokens, int[] streams, int repeat) {
        static Options parse(String[] args) {
            Path model = null;
            int threads = 0;
            int tokens = 64;
            int systemTokens = 200;
            int[] streams = {1, 4, 16, 32};
            int repeat = 3;
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (option) {
                    case "--model" -> {
                        if (v == null) {
                            throw new IllegalArgumentException("--model needs a value");
                        }
                        model = Path.of(v);
                    }
                    case "--threads" -> threads = BenchArgs.atLeast(option, v, 0);
                    // a decode rate needs a second token
                    case "--tokens" -> tokens = BenchArgs.atLeast(option, v, 2);
                    case "--system-tokens" -> systemTokens = BenchArgs.atLeast(option, v, 0);
                    case "--streams" -> {
                        if (v == null) {
                            throw new IllegalArgumentException("--streams needs a value");
                        }
                        streams = Arrays.stream(v.split(",")).mapToInt(s -> BenchArgs.atLeast(option, s, 1)).toArray();
                    }
                    case "--repeat" -> repeat = BenchArgs.atLeast(option, v, 1);
                    default -> throw new IllegalArgumentException("unknown option " + option + " (options: --model FILE "
                            + "--threads N --tokens N --streams 1,4,16,32 --system-tokens N --repeat N)");
                }
                i++;
            }
            if (model == null) {
                throw new IllegalArgumentException("--model FILE is required");
            }
            return new Options(model, threads, tokens, systemTokens, streams, repeat);
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = BenchArgs.parseOrExit("bench-serve", args, Options::parse);
        Path modelPath = o.model();
        int threads = o.threads();
        int tokens = o.tokens();
        int systemTokens = o.systemTokens();
        int[] streams = o.streams();
        int repeat = o.repeat();
        int maxStreams = Arrays.stream(streams).max().orElse(1);
        ServerOptions defaults = ServerOptions.loopback(modelPath);
        ServerOptions options = new ServerOptions(modelPath, null, "127.0.0.1", 0, maxStreams, defaults.maxQueue(),
                defaults.prefillChunk(), defaults.blockSize(), null, threads, 0, "cpu", 0);
        String systemPrompt;
        try (Model m = Model.open(modelPath)) {
            systemPrompt = textOfTokens(m.tokenizer(), systemTokens);
        } catch (IOException e) {
            System.err.println("bench-serve: " + e.getMessage());
            System.exit(1);
            return;
        }
        PrintStream out = System.out;
        try (GaleServer server = GaleServer.start(options, System.err)) {
            ServeBenchmark bench = new ServeBenchmark(server.port(), server.modelId());
            out.println("warming up...");
            bench.run(maxStreams, tokens);
            bench.run(1, tokens);

            out.printf("%nmodel %s, %d generated tokens per stream (ignore_eos, greedy), threads %s%n",
                    modelPath.getFileName(), tokens, threads == 0 ? "all" : threads);
            out.printf("%8s %18s %18s %14s%n", "streams", "decode tok/s", "end-to-end tok/s", "mean TTFT ms");
            double single = 0;
            for (int n : streams) {
                Throughput best = null;
                for (int k = 0; k < repeat; k++) {
                    Throughput t = Throughput.of(bench.run(n, tokens));
                    if (best == null || t.decode() > best.decode()) {
                        best = t;
                    }
                }
                if (n == 1) {
                    single = best.decode();
                }
                out.printf("%8d %18.1f %18.1f %14.1f%s%n", n, best.decode(), best.endToEnd(), best.ttftMillis(),
                        single > 0 && n > 1 ? String.format("   (decode %.2fx one stream)", best.decode() / single) : "");
            }

            if (systemTokens == 0) {
                return;
            }
            // warm up the long-prompt path, cached and not, with a prompt that shares no block with the measured one
            bench.prefixRequest("Z" + systemPrompt, "Hello");
            bench.prefixRequest("Z" + systemPrompt, "Hello");
            // the first request of each pair computes the system prompt, the second finds it in the prefix cache
            double t1 = Double.MAX_VALUE;
            double t2 = Double.MAX_VALUE;
            for (int k = 0; k < repeat; k++) {
                String system = k + " " + systemPrompt;
                Timed first = bench.prefixRequest(system, "Tell me a story about a dog.");
                Timed second = bench.prefixRequest(system, "Tell me a story about a cat.");
                t1 = Math.min(t1, (first.firstTokenNanos() - first.sentNanos()) / 1e6);
                t2 = Math.min(t2, (second.firstTokenNanos() - second.sentNanos()) / 1e6);
            }
            out.printf("%nshared %d-token system prompt: TTFT first %.1f ms, second %.1f ms (%.2f of the first)%n",
                    systemTokens, t1, t2, t2 / t1);
        }
    }

    /** A text of at least {@code tokens} tokens. */
    private static String textOfTokens(Tokenizer tok, int tokens) {
        String sentence = "The wise old owl lived in a big tree and told the animals of the forest a new story every night. ";
        StringBuilder sb = new StringBuilder();
        while (tok.encode(sb.toString()).length < tokens) {
            sb.append(sentence);
        }
        return sb.toString();
    }

    /** {@code n} concurrent streamed completions of {@code tokens} tokens each. */
    private List<Timed> run(int n, int tokens) throws Exception {
        List<Future<Timed>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < n; i++) {
                ObjectNode body = JSON.createObjectNode();
                body.put("model", model);
                body.put("prompt", OPENINGS[i % OPENINGS.length] + SUBJECTS[(i / OPENINGS.length) % SUBJECTS.length]);
                body.put("max_tokens", tokens);
                body.put("temperature", 0);
                body.put("ignore_eos", true);
                futures.add(pool.submit(() -> stream("/v1/completions", body)));
            }
            List<Timed> out = new ArrayList<>();
            for (Future<Timed> f : futures) {
                out.add(f.get());
            }
            return out;
        }
    }

    private Timed prefixRequest(String system, String user) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        body.putArray("messages").add(JSON.createObjectNode().put("role", "system").put("content", system))
                .add(JSON.createObjectNode().put("role", "user").put("content", user));
        body.put("max_tokens", 1);
        body.put("temperature", 0);
        body.put("ignore_eos", true);
        return stream("/v1/chat/completions", body);
    }

    /** Sends a streamed request and times its first content chunk and its end. */
    private Timed stream(String path, ObjectNode body) throws IOException, InterruptedException {
        body.put("stream", true);
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build();
        long sent = System.nanoTime();
        HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode() + " from " + path);
        }
        long first = 0;
        int completion = 0;
        try (Stream<String> lines = r.body()) {
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (!line.startsWith("data: {")) {
                    continue;
                }
                JsonNode chunk = JSON.readTree(line.substring(6));
                JsonNode choice = chunk.get("choices").get(0);
                JsonNode text = choice.has("delta") ? choice.get("delta").get("content") : choice.get("text");
                if (first == 0 && text != null && !text.asText().isEmpty()) {
                    first = System.nanoTime();
                }
                if (chunk.has("usage")) {
                    completion = chunk.get("usage").get("completion_tokens").asInt();
                }
            }
        }
        long end = System.nanoTime();
        return new Timed(sent, first == 0 ? end : first, end, completion);
    }
}
