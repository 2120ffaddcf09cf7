package dev.gale.runtime.cpu;

import dev.gale.runtime.ChildJvm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {

    @Test
    void everyIndexRunsExactlyOnceOnKnownThreads() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int n : new int[] {1, 2, 7, 48, 1000, 4097}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(n);
                AtomicIntegerArray byWorker = new AtomicIntegerArray(3);
                pool.parallelFor(n, 1, (start, end) -> {
                    int w = pool.workerIndex();
                    for (int i = start; i < end; i++) {
                        seen.incrementAndGet(i);
                        byWorker.incrementAndGet(w);
                    }
                });
                int total = 0;
                for (int i = 0; i < n; i++) {
                    assertEquals(1, seen.get(i), "index " + i + " of " + n);
                }
                for (int w = 0; w < 3; w++) {
                    total += byWorker.get(w);
                }
                assertEquals(n, total);
            }
            assertEquals(0, pool.workerIndex(), "the calling thread is worker 0");
        }
    }

    @Test
    void aFailingRangeFailsTheLoop() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.parallelFor(100, 1, (s, t) -> {
                if (s <= 50 && 50 < t) {
                    throw boom;
                }
            }));
            assertSame(boom, e);
            // the pool still works afterwards
            AtomicIntegerArray seen = new AtomicIntegerArray(10);
            pool.parallelFor(10, 1, (s, t) -> {
                for (int i = s; i < t; i++) {
                    seen.incrementAndGet(i);
                }
            });
            for (int i = 0; i < 10; i++) {
                assertEquals(1, seen.get(i));
            }
        }
    }

    /**
     * Once compiled, a matrix product allocates nothing: no task objects, no boxed vectors, no scratch. Checked on
     * the calling thread's allocation counter, in a JVM of its own ({@link ChildJvm}); rounds repeat until the JIT
     * has compiled the kernels.
     */
    @Test
    void matrixProductsDoNotAllocateOnceCompiled() throws Exception {
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.F16}) {
            String out = ChildJvm.run(WorkerPoolTest.class, type.name());
            assertEquals("0", ChildJvm.last(out, "allocated"), type + ": bytes allocated by 100 products\n" + out);
        }
    }

    /** Runs 100 products (decode and batch) of a weight type in rounds until one allocates nothing; prints it. */
    public static void main(String[] args) {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random rnd = new Random(1);
        GgmlType type = GgmlType.valueOf(args[0]);
        try (WorkerPool pool = new WorkerPool(2)) {
            MatMul mm = new MatMul(pool);
            Tensor w = MatMulTest.randomTensor(type, 256, 64, rnd);
            ActivationRows decode = new ActivationRows(1, 256);
            ActivationRows batch = new ActivationRows(8, 256);
            for (int i = 0; i < 8 * 256; i++) {
                batch.values()[i] = (float) rnd.nextGaussian();
            }
            System.arraycopy(batch.values(), 0, decode.values(), 0, 256);
            float[] out = new float[8 * 64];
            long allocated = -1;
            for (int round = 0; round < 4000 && allocated != 0; round++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 50; i++) {
                    decode.set(1);
                    mm.apply(w, decode, out);
                    batch.set(8);
                    mm.apply(w, batch, out);
                }
                allocated = mx.getCurrentThreadAllocatedBytes() - before;
            }
            System.out.println("allocated " + allocated);
        }
    }

    @Test
    void oneThreadRunsInline() {
        try (WorkerPool pool = new WorkerPool(1)) {
            Thread caller = Thread.currentThread();
            pool.parallelFor(100, 1, (s, t) -> assertTrue(Thread.currentThread() == caller));
            assertEquals(1, pool.threads());
        }
    }
}
