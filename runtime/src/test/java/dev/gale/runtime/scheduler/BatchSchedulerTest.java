package dev.gale.runtime.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.Model;
import dev.gale.runtime.SharedData;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.ContextOverflowException;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.cpu.CpuBackendProvider;
import dev.gale.runtime.generate.Generator;
import dev.gale.runtime.generate.StopReason;
import dev.gale.runtime.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BatchSchedulerTest {
    private static Model model;
    private static InferenceEngine engine;

    @BeforeAll
    static void load() throws Exception {
        model = Model.open(SharedData.model("stories260K.gguf"));
        engine = new CpuBackendProvider().load(model, new BackendOptions(2, 0, 128));
    }

    @AfterAll
    static void close() {
        if (engine != null) {
            engine.close();
            model.close();
        }
    }

    /** Collects one request's tokens. */
    static class Collector implements SequenceObserver {
        final List<Integer> tokens = new ArrayList<>();
        final CompletableFuture<StopReason> done = new CompletableFuture<>();
        final CountDownLatch firstToken = new CountDownLatch(1);
        volatile SequenceStats stats;

        @Override
        public StopReason onToken(int token) {
            tokens.add(token);
            firstToken.countDown();
            return null;
        }

        @Override
        public void onFinish(StopReason reason, SequenceStats stats) {
            this.stats = stats;
            done.complete(reason);
        }

        @Override
        public void onError(RuntimeException error) {
            done.completeExceptionally(error);
        }

        int[] ids() {
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    private static int[] prompt(int i) {
        int[] p = new int[3 + (i * 7) % 40];
        p[0] = 1;
        for (int k = 1; k < p.length; k++) {
            p[k] = 10 + (k * 31 + i * 17) % 400;
        }
        return p;
    }

    private static int[] alone(int[] prompt, int maxTokens) {
        try (InferenceSession s = engine.newSession(128)) {
            return Generator.generate(s, prompt, SamplingParams.GREEDY, maxTokens, Set.of(), t -> true).tokens();
        }
    }

    @Test
    void batchedRequestsGiveTheirOwnResults() throws Exception {
        // a small cache forces preemption; a small prefill chunk forces chunked prompts
        SchedulerOptions opts = new SchedulerOptions(4, 64, 8, 128, 12, 16);
        int n = 10;
        int maxTokens = 40;
        try (BatchScheduler scheduler = new BatchScheduler(engine, opts)) {
            List<Collector> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Collector c = new Collector();
                scheduler.submit(new GenerationRequest(prompt(i), SamplingParams.GREEDY, maxTokens, Set.of(), c));
                results.add(c);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(StopReason.MAX_TOKENS, results.get(i).done.get(60, TimeUnit.SECONDS));
                assertArrayEquals(alone(prompt(i), maxTokens), results.get(i).ids(), "request " + i);
            }
            assertTrue(scheduler.preemptions() > 0, "the cache was small enough to need preemption");
            assertEquals(0, scheduler.blockPool().referencedBlocks(), "every block went back");
            assertEquals(0, scheduler.runningCount());
        }
    }

    @Test
    void sharedPrefixIsReadFromTheCache() throws Exception {
        SchedulerOptions opts = new SchedulerOptions(4, 64, 64, 128, 32, 8);
        int[] first = prompt(5);
        int[] second = first.clone();
        second[second.length - 1] = 42;
        try (BatchScheduler scheduler = new BatchScheduler(engine, opts)) {
            Collector a = new Collector();
            scheduler.submit(new GenerationRequest(first, SamplingParams.GREEDY, 5, Set.of(), a));
            a.done.get(30, TimeUnit.SECONDS);
            Collector b = new Collector();
            scheduler.submit(new GenerationRequest(second, SamplingParams.GREEDY, 5, Set.of(), b));
            b.done.get(30, TimeUnit.SECONDS);
            int full = (second.length - 1) / 8 * 8;
            assertEquals(full, b.stats.cachedTokens(), "every full block of the shared prefix is reused");
            assertEquals(full / 8, scheduler.prefixHitBlocks());
            assertArrayEquals(alone(second, 5), b.ids());
        }
    }

    @Test
    void longPromptIsReadInChunksWithoutStallingDecoding() throws Exception {
        SchedulerOptions opts = new SchedulerOptions(4, 64, 32, 512, 64, 16);
        try (BatchScheduler scheduler = new BatchScheduler(engine, opts)) {
            List<Long> stepsOfTokens = new ArrayList<>();
            Collector decoding = new Collector() {
                @Override
                public StopReason onToken(int token) {
                    stepsOfTokens.add(scheduler.steps());
                    return super.onToken(token);
                }
            };
            Ticket t = scheduler.submit(new GenerationRequest(prompt(1), SamplingParams.GREEDY, 100_000, Set.of(), decoding));
            assertTrue(decoding.firstToken.await(30, TimeUnit.SECONDS));
            int[] longPrompt = new int[400];
            for (int i = 0; i < longPrompt.length; i++) {
                longPrompt[i] = 1 + (i * 7) % 500;
            }
            Collector reading = new Collector();
            long before = scheduler.steps();
            scheduler.submit(new GenerationRequest(longPrompt, SamplingParams.GREEDY, 1, Set.of(), reading));
            reading.done.get(60, TimeUnit.SECONDS);
            long after = scheduler.steps();
            t.cancel();
            decoding.done.get(30, TimeUnit.SECONDS);
            assertTrue(after - before >= 400 / 32, "the prompt took at least " + (400 / 32) + " steps");
            List<Long> during = stepsOfTokens.stream().filter(s -> s > before + 1 && s <= after).toList();
            for (int i = 1; i < during.size(); i++) {
                assertEquals(during.get(i - 1) + 1, during.get(i), "the decoding sequence got a token every step");
            }
            assertTrue(during.size() >= 400 / 32 - 1, "it kept decoding while the prompt was read: " + during.size());
        }
    }

    @Test
    void cancelledRequestReleasesItsBlocks() throws Exception {
        SchedulerOptions opts = new SchedulerOptions(4, 64, 64, 128, 32, 8);
        try (BatchScheduler scheduler = new BatchScheduler(engine, opts)) {
            Collector c = new Collector();
            Ticket t = scheduler.submit(new GenerationRequest(prompt(3), SamplingParams.GREEDY, 100_000, Set.of(), c));
            assertTrue(c.firstToken.await(30, TimeUnit.SECONDS));
            t.cancel();
            assertEquals(StopReason.CANCELLED, c.done.get(30, TimeUnit.SECONDS));
            assertEquals(0, scheduler.blockPool().referencedBlocks());
        }
    }

    @Test
    void stopsAtEndTokensAndContextEnd() throws Exception {
        int[] p = prompt(2);
        int[] greedy = alone(p, 10);
        SchedulerOptions opts = new SchedulerOptions(2, 8, 64, 128, 32, 8);
        try (BatchScheduler scheduler = new BatchScheduler(engine, opts)) {
            Collector end = new Collector();
            scheduler.submit(new GenerationRequest(p, SamplingParams.GREEDY, 10, Set.of(greedy[3]), end));
            assertEquals(StopReason.END_OF_TEXT, end.done.get(30, TimeUnit.SECONDS));
            assertEquals(3, end.tokens.size());

            int[] longPrompt = new int[126];
            longPrompt[0] = 1;
            Collector full = new Collector();
            scheduler.submit(new GenerationRequest(longPrompt, SamplingParams.GREEDY, 50, Set.of(), full));
            assertEquals(StopReason.CONTEXT_FULL, full.done.get(30, TimeUnit.SECONDS));
            assertEquals(3, full.tokens.size(), "positions 126 and 127 are fed back; the token after 127 ends it");

            assertThrows(ContextOverflowException.class, () -> scheduler.submit(
                    new GenerationRequest(new int[129], SamplingParams.GREEDY, 1, Set.of(), new Collector())));
            assertThrows(IllegalArgumentException.class, () -> scheduler.submit(
                    new GenerationRequest(new int[] {1, 600}, SamplingParams.GREEDY, 1, Set.of(), new Collector())));
        }
    }

    @Test
    void fullQueueIsRefused() throws Exception {
        SchedulerOptions opts = new SchedulerOptions(1, 1, 64, 128, 32, 8);
        try (BatchScheduler scheduler = new BatchScheduler(engine, opts)) {
            Collector running = new Collector();
            Ticket t = scheduler.submit(new GenerationRequest(prompt(1), SamplingParams.GREEDY, 100_000, Set.of(), running));
            assertTrue(running.firstToken.await(30, TimeUnit.SECONDS));
            Collector queued = new Collector();
            Ticket q = scheduler.submit(new GenerationRequest(prompt(2), SamplingParams.GREEDY, 1, Set.of(), queued));
            assertThrows(QueueFullException.class, () -> scheduler.submit(
                    new GenerationRequest(prompt(3), SamplingParams.GREEDY, 1, Set.of(), new Collector())));
            q.cancel();
            t.cancel();
            assertEquals(StopReason.CANCELLED, queued.done.get(30, TimeUnit.SECONDS));
            assertEquals(StopReason.CANCELLED, running.done.get(30, TimeUnit.SECONDS));
        }
    }
}
