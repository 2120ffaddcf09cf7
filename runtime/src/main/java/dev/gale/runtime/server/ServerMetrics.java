package dev.gale.runtime.server;

import dev.gale.runtime.kv.BlockPool;
import dev.gale.runtime.scheduler.BatchScheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The server's Prometheus metrics: per-request latency histograms and token counts, and the scheduler's queue,
 * batch, KV-block and prefix-cache state.
 */
final class ServerMetrics {
    private static final Duration[] LATENCY_BUCKETS = {
            Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofSeconds(60)};
    private static final double[] TOKEN_BUCKETS = {1, 16, 64, 256, 1024, 4096, 16384, 65536};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer ttft;
    private final Timer interToken;
    private final Timer queueWait;
    private final Timer duration;
    private final DistributionSummary promptTokens;
    private final DistributionSummary completionTokens;

    ServerMetrics(BatchScheduler scheduler) {
        ttft = latency("gale.request.time.to.first.token", "From arrival to the first generated token");
        interToken = latency("gale.request.inter.token.latency", "Time between consecutive generated tokens");
        queueWait = latency("gale.request.queue.wait", "From arrival until the request joined the running batch");
        duration = latency("gale.request.duration", "From arrival to the last token");
        promptTokens = tokens("gale.request.prompt.tokens", "Prompt tokens per request");
        completionTokens = tokens("gale.request.completion.tokens", "Generated tokens per request");
        Gauge.builder("gale.queue.depth", scheduler, BatchScheduler::waitingCount)
                .description("Requests waiting to join the running batch").register(registry);
        Gauge.builder("gale.batch.running", scheduler, BatchScheduler::runningCount)
                .description("Sequences in the running batch").register(registry);
        BlockPool pool = scheduler.blockPool();
        Gauge.builder("gale.kv.blocks.used", pool, BlockPool::referencedBlocks)
                .description("KV blocks referenced by running sequences").register(registry);
        Gauge.builder("gale.kv.blocks.free", pool, BlockPool::freeBlocks)
                .description("KV blocks holding nothing").register(registry);
        Gauge.builder("gale.kv.blocks.cached", pool, BlockPool::idleCachedBlocks)
                .description("Unreferenced KV blocks kept for prefix reuse (evictable)").register(registry);
        Gauge.builder("gale.kv.blocks.capacity", pool, BlockPool::totalBlocks)
                .description("KV blocks in the cache").register(registry);
        FunctionCounter.builder("gale.prefix.cache.hits", scheduler, BatchScheduler::prefixHitBlocks)
                .description("Full prompt blocks reused from the prefix cache").register(registry);
        FunctionCounter.builder("gale.prefix.cache.misses", scheduler, BatchScheduler::prefixMissBlocks)
                .description("Full prompt blocks not found in the prefix cache").register(registry);
        FunctionCounter.builder("gale.steps", scheduler, BatchScheduler::steps)
                .description("Batched forward passes").register(registry);
        FunctionCounter.builder("gale.step.sequences", scheduler, BatchScheduler::stepSequences)
                .description("Sequences summed over steps (divide by gale_steps for the mean batch size)")
                .register(registry);
        FunctionCounter.builder("gale.step.tokens", scheduler, BatchScheduler::stepTokens)
                .description("Tokens run, summed over steps (prompt chunks and decode tokens)").register(registry);
        FunctionCounter.builder("gale.preemptions", scheduler, BatchScheduler::preemptions)
                .description("Sequences preempted to free KV blocks").register(registry);
    }

    private Timer latency(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(LATENCY_BUCKETS).register(registry);
    }

    private DistributionSummary tokens(String name, String description) {
        return DistributionSummary.builder(name).description(description).baseUnit("tokens")
                .serviceLevelObjectives(TOKEN_BUCKETS).register(registry);
    }

    void recordInterToken(long nanos) {
        interToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Records a finished request; {@code ttftNanos} is negative when no token was generated. */
    void recordRequest(String outcome, int prompt, int completion, long queueWaitNanos, long ttftNanos,
                       long durationNanos) {
        Counter.builder("gale.requests").description("Finished requests by outcome").tag("outcome", outcome)
                .register(registry).increment();
        promptTokens.record(prompt);
        completionTokens.record(completion);
        queueWait.record(queueWaitNanos, TimeUnit.NANOSECONDS);
        duration.record(durationNanos, TimeUnit.NANOSECONDS);
        if (ttftNanos >= 0) {
            ttft.record(ttftNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Counts a request refused before it was queued. */
    void recordRejected(String outcome) {
        Counter.builder("gale.requests").description("Finished requests by outcome").tag("outcome", outcome)
                .register(registry).increment();
    }

    /** The Prometheus text exposition. */
    String scrape() {
        return registry.scrape();
    }
}
