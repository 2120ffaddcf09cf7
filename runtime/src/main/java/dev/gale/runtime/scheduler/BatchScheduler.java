package dev.gale.runtime.scheduler;

import dev.gale.runtime.backend.BatchRow;
import dev.gale.runtime.backend.BatchedSession;
import dev.gale.runtime.backend.ContextOverflowException;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.generate.StopReason;
import dev.gale.runtime.kv.BlockPool;
import dev.gale.runtime.kv.BlockTable;
import dev.gale.runtime.sampling.Sampler;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching: one thread runs the model in steps, and every step is one batched forward pass over all
 * running sequences. New requests join the batch at any step; finished or cancelled ones leave it at once and
 * give their KV blocks back. A sequence whose prompt is still being read contributes a chunk of prompt tokens (all
 * prompts together at most {@link SchedulerOptions#prefillChunk()} per step), a decoding one contributes its
 * last token, and each samples with its own {@link Sampler}.
 *
 * <p>KV memory is a {@link BlockPool} of fixed-size blocks. A request joins when its whole prompt fits, after
 * taking whatever full prompt blocks the prefix cache already holds; generated positions get blocks as they are
 * reached. When none is left, the most recently admitted sequence is preempted: its blocks go back (its full
 * blocks stay in the prefix cache) and it waits at the head of the queue to recompute its tokens later, with the
 * same results.
 */
public final class BatchScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchScheduler.class);

    private final BatchedSession session;
    private final BlockPool pool;
    private final SchedulerOptions options;
    private final int vocab;
    private final Thread thread;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    /** Guarded by lock. */
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    /** Scheduler thread only, in admission order. */
    private final List<Sequence> running = new ArrayList<>();
    private volatile boolean closed;
    private volatile int waitingCount;
    private volatile int runningCount;
    private volatile long prefixHitBlocks;
    private volatile long prefixMissBlocks;
    private volatile long preemptions;
    private volatile long steps;
    private volatile long stepSequences;
    private volatile long stepTokens;

    public BatchScheduler(InferenceEngine engine, SchedulerOptions options) {
        this.options = options;
        this.vocab = engine.config().vocabSize();
        this.session = engine.newBatchedSession(options.kvBlocks(), options.blockSize(), options.maxStepTokens());
        this.pool = new BlockPool(options.kvBlocks(), options.blockSize());
        this.thread = new Thread(this::loop, "gale-scheduler");
        thread.setDaemon(true);
        thread.start();
    }

    public SchedulerOptions options() {
        return options;
    }

    /**
     * Queues a request; its observer hears from the scheduler thread from now on.
     *
     * @throws ContextOverflowException if the prompt is longer than the context
     * @throws IllegalArgumentException if the prompt needs more KV blocks than the whole cache holds, or a token is
     *                                  outside the vocabulary
     * @throws QueueFullException       if {@link SchedulerOptions#maxQueue()} requests are already waiting
     */
    public Ticket submit(GenerationRequest request) {
        int[] prompt = request.prompt();
        if (prompt.length > options.contextLength()) {
            throw new ContextOverflowException(0, prompt.length, options.contextLength());
        }
        int blocks = pool.blocksFor(prompt.length);
        if (blocks > pool.totalBlocks()) {
            throw new IllegalArgumentException("the prompt's " + prompt.length + " tokens need " + blocks
                    + " KV blocks but the cache has only " + pool.totalBlocks() + "; use a larger --kv-budget");
        }
        for (int t : prompt) {
            if (t < 0 || t >= vocab) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        Sequence s = new Sequence(request, System.nanoTime());
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the scheduler is shut down");
            }
            if (waiting.size() >= options.maxQueue()) {
                throw new QueueFullException(options.maxQueue());
            }
            waiting.addLast(s);
            waitingCount = waiting.size();
            work.signal();
        } finally {
            lock.unlock();
        }
        return s;
    }

    /** Whether the scheduler thread is alive and accepting requests. */
    public boolean isRunning() {
        return !closed && thread.isAlive();
    }

    /** Requests waiting to join the batch. */
    public int waitingCount() {
        return waitingCount;
    }

    /** Sequences in the running batch. */
    public int runningCount() {
        return runningCount;
    }

    /** The KV block pool (read its counters only). */
    public BlockPool blockPool() {
        return pool;
    }

    /** Full prompt blocks taken from the prefix cache. */
    public long prefixHitBlocks() {
        return prefixHitBlocks;
    }

    /** Full prompt blocks not found in the prefix cache. */
    public long prefixMissBlocks() {
        return prefixMissBlocks;
    }

    /** Times a sequence was preempted to free KV blocks. */
    public long preemptions() {
        return preemptions;
    }

    /** Forward passes run so far. */
    public long steps() {
        return steps;
    }

    /** Sequences summed over all steps (divided by {@link #steps()}: the mean batch size). */
    public long stepSequences() {
        return stepSequences;
    }

    /** Tokens summed over all steps (prompt chunks and decode tokens). */
    public long stepTokens() {
        return stepTokens;
    }

    /** Stops the scheduler thread; requests still queued or running get {@code onError}. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        session.close();
    }

    private void loop() {
        try {
            while (awaitWork()) {
                step();
            }
        } catch (RuntimeException | Error e) {
            LOG.error("the scheduler failed", e);
        } finally {
            IllegalStateException down = new IllegalStateException("the server is shutting down");
            for (Sequence s : running) {
                s.table.release();
                s.observer().onError(down);
            }
            running.clear();
            lock.lock();
            try {
                closed = true;
                for (Sequence s : waiting) {
                    s.observer().onError(down);
                }
                waiting.clear();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Blocks until there is something to do; false once closed. */
    private boolean awaitWork() {
        lock.lock();
        try {
            while (!closed && waiting.isEmpty() && running.isEmpty()) {
                work.awaitUninterruptibly();
            }
            return !closed;
        } finally {
            lock.unlock();
        }
    }

    private void step() {
        dropCancelled();
        admit();
        List<Sequence> stepSeqs = new ArrayList<>();
        List<BatchRow> rows = plan(stepSeqs);
        if (rows.isEmpty()) {
            return;
        }
        try {
            session.forward(rows);
        } catch (RuntimeException e) {
            LOG.error("batched forward pass failed; ending the {} sequences in it", stepSeqs.size(), e);
            for (Sequence s : stepSeqs) {
                running.remove(s);
                s.table.release();
                s.observer().onError(e);
            }
            runningCount = running.size();
            return;
        }
        steps++;
        stepSequences += rows.size();
        for (BatchRow r : rows) {
            stepTokens += r.count();
        }
        for (int i = 0; i < rows.size(); i++) {
            Sequence s = stepSeqs.get(i);
            s.computed += rows.get(i).count();
            s.table.commit(s.tokens, s.computed);
            if (s.computed == s.length) {
                StopReason stop = s.accept(s.sampler.sample(s.logits));
                if (stop != null) {
                    finish(s, stop);
                }
            }
        }
        runningCount = running.size();
    }

    private void dropCancelled() {
        for (Iterator<Sequence> it = running.iterator(); it.hasNext(); ) {
            Sequence s = it.next();
            if (s.cancelled) {
                it.remove();
                s.table.release();
                s.observer().onFinish(StopReason.CANCELLED, s.stats());
            }
        }
        List<Sequence> dropped = new ArrayList<>();
        lock.lock();
        try {
            for (Iterator<Sequence> it = waiting.iterator(); it.hasNext(); ) {
                Sequence s = it.next();
                if (s.cancelled) {
                    it.remove();
                    dropped.add(s);
                }
            }
            waitingCount = waiting.size();
        } finally {
            lock.unlock();
        }
        for (Sequence s : dropped) {
            s.observer().onFinish(StopReason.CANCELLED, s.stats());
        }
        runningCount = running.size();
    }

    /** Moves waiting requests into the batch, in order, while there is room and KV memory for their prompts. */
    private void admit() {
        while (running.size() < options.maxBatch()) {
            Sequence s;
            lock.lock();
            try {
                s = waiting.peekFirst();
            } finally {
                lock.unlock();
            }
            if (s == null) {
                return;
            }
            int cached = s.table.attachCachedPrefix(s.tokens, s.length - 1);
            boolean fits = pool.blocksFor(s.length) - s.table.size() <= pool.availableBlocks();
            if (!fits && !running.isEmpty()) {
                s.table.release();
                return;
            }
            lock.lock();
            try {
                waiting.pollFirst();
                waitingCount = waiting.size();
            } finally {
                lock.unlock();
            }
            if (!fits) {
                // alone and still too long: a preempted sequence that has grown past the whole cache
                s.table.release();
                s.observer().onFinish(StopReason.CONTEXT_FULL, s.stats());
                continue;
            }
            s.table.reserve(s.length);
            s.computed = cached;
            if (s.admittedNanos == 0) {
                s.logits = new float[vocab];
                s.admittedNanos = System.nanoTime();
                s.cachedTokens = cached;
                int hits = cached / pool.blockSize();
                prefixHitBlocks += hits;
                prefixMissBlocks += (s.length - 1) / pool.blockSize() - hits;
            }
            running.add(s);
        }
        runningCount = running.size();
    }

    /**
     * This step's rows: every decoding sequence's next token, then prompt chunks up to the prefill budget. Preempts
     * the youngest sequences when a decoding one needs a block and none is left.
     */
    private List<BatchRow> plan(List<Sequence> stepSeqs) {
        List<BatchRow> rows = new ArrayList<>();
        for (int i = 0; i < running.size(); i++) {
            Sequence s = running.get(i);
            if (s.length - s.computed != 1) {
                continue;
            }
            while (!s.table.reserve(s.length)) {
                Sequence victim = running.getLast();
                preempt(victim);
                if (victim == s) {
                    break;
                }
            }
            if (s.table.capacity() >= s.length) {
                rows.add(s.row(1));
                stepSeqs.add(s);
            }
        }
        int prefill = options.prefillChunk();
        for (Sequence s : running) {
            int remaining = s.length - s.computed;
            if (remaining > 1 && prefill > 0) {
                int count = Math.min(remaining, prefill);
                prefill -= count;
                rows.add(s.row(count));
                stepSeqs.add(s);
            }
        }
        return rows;
    }

    private void preempt(Sequence s) {
        running.remove(s);
        s.table.release();
        s.computed = 0;
        preemptions++;
        lock.lock();
        try {
            waiting.addFirst(s);
            waitingCount = waiting.size();
        } finally {
            lock.unlock();
        }
        LOG.debug("preempted a sequence of {} tokens to free KV blocks", s.length);
    }

    private void finish(Sequence s, StopReason reason) {
        running.remove(s);
        s.table.release();
        s.observer().onFinish(reason, s.stats());
    }

    /** One request's state. The token array holds the prompt and every generated token. */
    private final class Sequence implements Ticket {
        final GenerationRequest request;
        final Sampler sampler;
        final BlockTable table;
        final long submittedNanos;
        /** The logits of the last token run; allocated when the sequence first joins the batch. */
        float[] logits;
        int[] tokens;
        /** Tokens so far (prompt + generated). */
        int length;
        /** Tokens whose keys and values are in the cache. */
        int computed;
        int generated;
        int cachedTokens;
        long admittedNanos;
        volatile boolean cancelled;

        Sequence(GenerationRequest request, long submittedNanos) {
            this.request = request;
            this.submittedNanos = submittedNanos;
            int[] prompt = request.prompt();
            this.tokens = Arrays.copyOf(prompt, prompt.length + Math.min(request.maxTokens(), 256));
            this.length = prompt.length;
            this.sampler = new Sampler(request.params());
            for (int t : prompt) {
                sampler.accept(t);
            }
            this.table = new BlockTable(pool);
        }

        SequenceObserver observer() {
            return request.observer();
        }

        BatchRow row(int count) {
            return new BatchRow(tokens, computed, count, computed, table.blocks(),
                    computed + count == length ? logits : null);
        }

        /** Takes a sampled token; returns why to stop, or null. */
        StopReason accept(int token) {
            if (request.endTokens().contains(token)) {
                return StopReason.END_OF_TEXT;
            }
            if (length == tokens.length) {
                tokens = Arrays.copyOf(tokens, length * 2);
            }
            tokens[length++] = token;
            generated++;
            sampler.accept(token);
            StopReason stop;
            try {
                stop = observer().onToken(token);
            } catch (RuntimeException e) {
                LOG.warn("a token observer failed; cancelling its request", e);
                stop = StopReason.CANCELLED;
            }
            if (stop != null) {
                return stop;
            }
            if (generated >= request.maxTokens()) {
                return StopReason.MAX_TOKENS;
            }
            if (length > options.contextLength()) {
                return StopReason.CONTEXT_FULL;
            }
            return null;
        }

        SequenceStats stats() {
            long wait = (admittedNanos != 0 ? admittedNanos : System.nanoTime()) - submittedNanos;
            return new SequenceStats(request.prompt().length, cachedTokens, generated, wait);
        }

        @Override
        public void cancel() {
            cancelled = true;
            lock.lock();
            try {
                work.signal();
            } finally {
                lock.unlock();
            }
        }
    }
}
