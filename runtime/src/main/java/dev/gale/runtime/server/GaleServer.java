package dev.gale.runtime.server;

import dev.gale.model.Model;
import dev.gale.model.chat.ChatTemplate;
import dev.gale.model.config.ModelConfig;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.Backends;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.kv.KvBudget;
import dev.gale.runtime.kv.PagedKvCache;
import dev.gale.runtime.load.ModelLoader;
import dev.gale.runtime.scheduler.BatchScheduler;
import dev.gale.runtime.scheduler.SchedulerOptions;
import java.io.IOException;
import java.io.PrintStream;

/** A running {@code gale serve}: the model, its engine, the batch scheduler and the HTTP server, closed together. */
public final class GaleServer implements AutoCloseable {
    private final Model model;
    private final InferenceEngine engine;
    private final BatchScheduler scheduler;
    private final OpenAiServer http;
    private final String modelId;

    private GaleServer(Model model, InferenceEngine engine, BatchScheduler scheduler, OpenAiServer http, String modelId) {
        this.model = model;
        this.engine = engine;
        this.scheduler = scheduler;
        this.http = http;
        this.modelId = modelId;
    }

    /** Loads the model and starts serving; progress and problems go to {@code err}. */
    public static GaleServer start(ServerOptions o, PrintStream err) throws IOException {
        positive("--max-batch", o.maxBatch());
        positive("--max-queue", o.maxQueue());
        positive("--prefill-chunk", o.prefillChunk());
        positive("--block-size", o.blockSize());
        if (o.threads() < 0 || o.contextLength() < 0) {
            throw new IllegalArgumentException("--threads and --ctx-size must be >= 0");
        }
        if (o.port() < 0 || o.port() > 65535) {
            throw new IllegalArgumentException("--port must be in [0, 65535], got " + o.port());
        }
        Model model = ModelLoader.load(o.model(), true, err);
        InferenceEngine engine = null;
        BatchScheduler scheduler = null;
        try {
            ModelConfig c = model.config();
            int ctx = o.contextLength() > 0 ? o.contextLength() : Math.min(c.contextLength(), BackendOptions.DEFAULT_CONTEXT);
            if (ctx > c.contextLength()) {
                throw new IllegalArgumentException("--ctx-size " + ctx + " exceeds the model's trained context "
                        + c.contextLength());
            }
            engine = Backends.named(o.backend()).load(model, new BackendOptions(o.threads(), o.device(), ctx));
            long perPosition = PagedKvCache.bytesPerPosition(c.layers(), c.kvDim(), c.vDim());
            int blocks = kvBlocks(o, ctx, perPosition);
            String id = o.alias() != null ? o.alias() : o.model().getFileName().toString().replaceFirst("\\.gguf$", "");
            scheduler = new BatchScheduler(engine,
                    new SchedulerOptions(o.maxBatch(), o.maxQueue(), o.prefillChunk(), ctx, blocks, o.blockSize()));
            ChatTemplate template = ChatTemplate.forModel(model.gguf().metadata());
            OpenAiServer http = new OpenAiServer(id, model.tokenizer(), template, scheduler, o.host(), o.port()).start();
            err.printf("gale: serving %s on http://%s:%d/v1 (%s; context %d, batch up to %d, KV cache %d blocks of %d = "
                            + "%.1f MiB; chat template: %s)%n", id, o.host(), http.port(), engine.deviceName(), ctx,
                    o.maxBatch(), blocks, o.blockSize(), blocks * (double) o.blockSize() * perPosition / 1048576.0,
                    template.description());
            return new GaleServer(model, engine, scheduler, http, id);
        } catch (RuntimeException e) {
            if (scheduler != null) {
                scheduler.close();
            }
            if (engine != null) {
                engine.close();
            }
            model.close();
            throw e;
        }
    }

    /** The budget's blocks, or by default room for maxBatch full contexts within half the free heap. */
    private static int kvBlocks(ServerOptions o, int ctx, long perPosition) {
        if (o.kvBudget() != null) {
            return o.kvBudget().blocks(perPosition, o.blockSize());
        }
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long wanted = (long) o.maxBatch() * ctx * perPosition;
        return new KvBudget(Math.min(wanted, free / 2), 0).blocks(perPosition, o.blockSize());
    }

    private static void positive(String option, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(option + " must be > 0, got " + value);
        }
    }

    /** The port the server listens on. */
    public int port() {
        return http.port();
    }

    /** The name clients pass as {@code model}. */
    public String modelId() {
        return modelId;
    }

    @Override
    public void close() {
        http.close();
        scheduler.close();
        engine.close();
        model.close();
    }
}
