package dev.gale.runtime.cli;

import dev.gale.runtime.kv.KvBudget;
import dev.gale.runtime.server.GaleServer;
import dev.gale.runtime.server.ServerOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gale serve}: an OpenAI-compatible HTTP server with continuous batching. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model over an OpenAI-compatible HTTP API: POST /v1/chat/completions and "
                + "/v1/completions (streaming or not), GET /v1/models, /health and /metrics (Prometheus).",
                "Requests are decoded together (continuous batching) over a paged KV cache; requests that share a "
                        + "prompt prefix reuse its cached blocks. One log line per request at INFO."})
final class ServeCommand implements Callable<Integer>, CommonOptions.Holder {

    @Mixin
    CommonOptions common;

    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model file.")
    Path model;

    @Option(names = "--alias", description = "Model name clients pass as 'model' (default: the file name without .gguf).")
    String alias;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port to listen on; 0 = any free port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--max-batch", defaultValue = "" + ServerOptions.DEFAULT_MAX_BATCH,
            description = "Most sequences decoded together (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-queue", defaultValue = "" + ServerOptions.DEFAULT_MAX_QUEUE,
            description = "Most requests waiting for a batch slot; more are answered 429 (default: ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--prefill-chunk", defaultValue = "" + ServerOptions.DEFAULT_PREFILL_CHUNK,
            description = "Most prompt tokens run per step, so long prompts do not stall decoding (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--block-size", defaultValue = "" + ServerOptions.DEFAULT_BLOCK_SIZE,
            description = "Positions per KV cache block (default: ${DEFAULT-VALUE}). Multiples of 16 let the CPU "
                    + "backend compute attention scores 16 positions at a time.")
    int blockSize;

    @Option(names = "--kv-budget", converter = KvBudgetConverter.class,
            description = "KV cache size: MiB (512, 2GiB) or positions (8192tok) (default: room for --max-batch full "
                    + "contexts, at most half the free heap).")
    KvBudget kvBudget;

    @Option(names = {"-c", "--ctx-size"}, defaultValue = "0", description = "Context length per sequence (default: the model's, at most 4096).")
    int ctxSize;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (default: all cores).")
    int threads;

    @Option(names = "--backend", defaultValue = "cpu", description = "Backend (default: ${DEFAULT-VALUE}; it must support batched decoding).")
    String backend;

    @Option(names = "--device", defaultValue = "0", description = "Device index for the backend (see 'gale devices').")
    int device;

    /** Parses {@code --kv-budget}. */
    static final class KvBudgetConverter implements picocli.CommandLine.ITypeConverter<KvBudget> {
        @Override
        public KvBudget convert(String value) {
            return KvBudget.parse(value);
        }
    }

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() throws Exception {
        // slf4j-simple reads this when the first logger is made: show the per-request lines unless configured
        if (System.getProperty("org.slf4j.simpleLogger.log.dev.gale.runtime.server") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.dev.gale.runtime.server", "info");
        }
        ServerOptions options = new ServerOptions(model, alias, host, port, maxBatch, maxQueue, prefillChunk, blockSize,
                kvBudget, threads, ctxSize, backend, device);
        GaleServer server = GaleServer.start(options, System.err);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "gale-shutdown"));
        stopped.await();
        return 0;
    }
}
