package dev.gale.runtime.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of worker threads that split index ranges between them. Threads are created once; a parallel loop
 * allocates nothing. The calling thread takes part in the work.
 */
public final class WorkerPool implements AutoCloseable {

    /** The body of a parallel loop over {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    private static final int SPIN_ITERATIONS = 1 << 14;
    /** Most ranges per thread in one loop: fine enough to balance, coarse enough that claiming one is cheap. */
    private static final int CHUNKS_PER_THREAD = 16;

    private final Worker[] workers;
    private final int threads;
    private volatile RangeBody body;
    private volatile int total;
    private volatile int chunkSize;
    private volatile int generation;
    private volatile boolean closed;
    private volatile Throwable failure;
    /** (generation << 32) | next chunk: a worker still in an old loop cannot claim a chunk of a new one. */
    private final AtomicLong nextChunk = new AtomicLong();
    private final AtomicInteger pending = new AtomicInteger();

    public WorkerPool(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Worker[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Worker t = new Worker(this, i + 1);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** A pool thread, with its index in {@code [1, threads)}. */
    private static final class Worker extends Thread {
        final WorkerPool pool;
        final int index;
        /** Set while the thread is parked or about to park: only then does a new loop need to unpark it. */
        volatile boolean parked;

        Worker(WorkerPool pool, int index) {
            super("gale-worker-" + index);
            this.pool = pool;
            this.index = index;
        }

        @Override
        public void run() {
            pool.workerLoop();
        }
    }

    /**
     * The index of the calling thread in {@code [0, threads)}: 0 for the thread that runs a parallel loop, 1.. for
     * the pool's threads. Loop bodies use it to pick per-thread scratch.
     */
    public int workerIndex() {
        return Thread.currentThread() instanceof Worker w && w.pool == this ? w.index : 0;
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into ranges of at least {@code grain} indices, on every thread.
     * Threads claim ranges one at a time, so a thread that is slowed down (the machine is shared, a core runs
     * slower) leaves its share to the others; there are up to {@value #CHUNKS_PER_THREAD} ranges per thread.
     * Returns when all ranges are done. Not reentrant: call from one thread at a time.
     */
    public synchronized void parallelFor(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.min(Math.max(1, n / Math.max(1, grain)), threads * CHUNKS_PER_THREAD);
        if (threads == 1 || chunks == 1) {
            body.run(0, n);
            return;
        }
        int size = (n + chunks - 1) / chunks;
        this.body = body;
        this.total = n;
        this.chunkSize = size;
        this.failure = null;
        int gen = generation + 1;
        nextChunk.set((long) gen << 32);
        pending.set((n + size - 1) / size);
        generation = gen;
        for (Worker w : workers) {
            // a spinning worker sees the new generation by itself (both sides write, then read, a volatile: one
            // of them sees the other's write)
            if (w.parked) {
                LockSupport.unpark(w);
            }
        }
        work(gen, body, n, size);
        while (pending.get() > 0) {
            Thread.onSpinWait();
        }
        this.body = null;
        Throwable f = failure;
        if (f != null) {
            if (f instanceof RuntimeException re) {
                throw re;
            }
            if (f instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(f);
        }
    }

    public void parallelFor(int n, RangeBody body) {
        parallelFor(n, 1, body);
    }

    private void work(int gen, RangeBody b, int n, int size) {
        while (true) {
            long s = nextChunk.get();
            if ((int) (s >>> 32) != gen) {
                return;
            }
            int c = (int) s;
            int start = c * size;
            if (start >= n) {
                return;
            }
            if (!nextChunk.compareAndSet(s, s + 1)) {
                continue;
            }
            try {
                b.run(start, Math.min(n, start + size));
            } catch (Throwable e) {
                failure = e;
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    private void workerLoop() {
        Worker self = (Worker) Thread.currentThread();
        int seen = 0;
        while (!closed) {
            int spins = 0;
            while (generation == seen && !closed) {
                if (spins++ < SPIN_ITERATIONS) {
                    Thread.onSpinWait();
                } else {
                    self.parked = true;
                    if (generation == seen && !closed) {
                        LockSupport.parkNanos(this, 1_000_000L);
                    }
                    self.parked = false;
                }
            }
            if (closed) {
                return;
            }
            seen = generation;
            RangeBody b = body;
            if (b != null) {
                work(seen, b, total, chunkSize);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
    }
}
