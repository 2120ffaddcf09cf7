package dev.gale.runtime.server;

import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.model.tokenizer.Utf8StreamDecoder;
import dev.gale.runtime.generate.StopReason;
import dev.gale.runtime.scheduler.SequenceObserver;
import dev.gale.runtime.scheduler.SequenceStats;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's tokens turned into text. The scheduler thread feeds it tokens: they are decoded (UTF-8 across token
 * boundaries), checked for stop strings and queued as text events, which the request's HTTP thread takes and
 * writes. Timing metrics and the per-request log line are recorded here too.
 */
final class CompletionStream implements SequenceObserver {
    private static final Logger LOG = LoggerFactory.getLogger(CompletionStream.class);

    /** What the HTTP thread receives. */
    sealed interface Event permits Text, Finished, Failed {
    }

    /** New text. */
    record Text(String text) implements Event {
    }

    /** The end of the completion. */
    record Finished(StopReason reason, SequenceStats stats) implements Event {
    }

    /** The completion failed inside the server. */
    record Failed(RuntimeException error) implements Event {
    }

    private final String id;
    private final Tokenizer tokenizer;
    private final ServerMetrics metrics;
    private final Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
    private final StopStringMatcher stops;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final long arrivalNanos;
    private long firstTokenNanos = -1;
    private long lastTokenNanos;

    CompletionStream(String id, Tokenizer tokenizer, List<String> stopStrings, ServerMetrics metrics, long arrivalNanos) {
        this.id = id;
        this.tokenizer = tokenizer;
        this.metrics = metrics;
        this.stops = new StopStringMatcher(stopStrings);
        this.arrivalNanos = arrivalNanos;
    }

    @Override
    public StopReason onToken(int token) {
        long now = System.nanoTime();
        if (firstTokenNanos < 0) {
            firstTokenNanos = now;
        } else {
            metrics.recordInterToken(now - lastTokenNanos);
        }
        lastTokenNanos = now;
        emit(stops.feed(utf8.feed(tokenizer.tokenBytes(token, false))));
        return stops.stopped() ? StopReason.STOP_STRING : null;
    }

    @Override
    public void onFinish(StopReason reason, SequenceStats stats) {
        emit(stops.feed(utf8.flush()));
        emit(stops.flush());
        long end = System.nanoTime();
        long ttft = firstTokenNanos < 0 ? -1 : firstTokenNanos - arrivalNanos;
        String outcome = reason.name().toLowerCase();
        metrics.recordRequest(outcome, stats.promptTokens(), stats.generatedTokens(), stats.queueWaitNanos(), ttft,
                end - arrivalNanos);
        if (LOG.isInfoEnabled()) {
            double itl = stats.generatedTokens() > 1
                    ? (lastTokenNanos - firstTokenNanos) / 1e6 / (stats.generatedTokens() - 1) : 0;
            LOG.info(String.format("%s: %s, prompt %d tokens (%d cached), completion %d tokens, queue wait %.1f ms, "
                            + "time to first token %.1f ms, inter-token latency %.2f ms, total %.1f ms",
                    id, outcome, stats.promptTokens(), stats.cachedTokens(), stats.generatedTokens(),
                    stats.queueWaitNanos() / 1e6, ttft / 1e6, itl, (end - arrivalNanos) / 1e6));
        }
        events.add(new Finished(reason, stats));
    }

    @Override
    public void onError(RuntimeException error) {
        metrics.recordRequest("error", 0, 0, 0, -1, System.nanoTime() - arrivalNanos);
        LOG.error("{}: failed", id, error);
        events.add(new Failed(error));
    }

    private void emit(String text) {
        if (!text.isEmpty()) {
            events.add(new Text(text));
        }
    }

    /** The next event, waiting for it. */
    Event take() throws InterruptedException {
        return events.take();
    }

    /** The next event, waiting up to {@code timeoutMillis}; null on time-out. */
    Event poll(long timeoutMillis) throws InterruptedException {
        return events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** Moves every event already queued into {@code into}. */
    void drainTo(List<Event> into) {
        events.drainTo(into);
    }
}
