package dev.gale.bench;

import dev.gale.runtime.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A probe of the machine's float arithmetic peak: every thread of a pool runs twelve independent chains of fused
 * multiply-adds on vectors of the preferred width, in registers, with no memory traffic. Counted as two floating-point
 * operations a lane (a multiply and an add), as the kernels' GFLOP/s are. This is the bound a compute-bound prefill
 * is measured against, as {@link MemoryBandwidth} is decode's.
 */
public final class FmaPeak {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Chains of fused multiply-adds per thread: enough to cover the latency of two units (4 cycles × 2 + spare). */
    private static final int CHAINS = 12;
    /** Iterations of a task; each thread takes {@value #TASKS_PER_THREAD} tasks (the pool balances them). */
    private static final long ITERATIONS = 5_000_000L;
    private static final int TASKS_PER_THREAD = 4;

    /** The chains' results, kept so that the JIT cannot drop their arithmetic. */
    private static volatile float sink;

    private FmaPeak() {}

    /** The peak in GFLOP/s (10^9 floating-point operations per second) of all threads of {@code pool}, best of 3. */
    public static double measure(WorkerPool pool) {
        int tasks = pool.threads() * TASKS_PER_THREAD;
        float[] sinks = new float[tasks];
        WorkerPool.RangeBody body = (start, end) -> {
            for (int t = start; t < end; t++) {
                sinks[t] = chains(ITERATIONS);
            }
        };
        // short calls first, so that the JIT compiles the loop before the long ones
        for (int i = 0; i < 20_000; i++) {
            sinks[0] += chains(1_000);
        }
        long best = Long.MAX_VALUE;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            pool.parallelFor(tasks, 1, body);
            best = Math.min(best, System.nanoTime() - t0);
        }
        double flops = 2.0 * F.length() * CHAINS * ITERATIONS * tasks;
        float sum = 0;
        for (float v : sinks) {
            sum += v;
        }
        sink = sum;
        return flops / best;
    }

    private static float chains(long iterations) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f);
        FloatVector a = FloatVector.broadcast(F, 1e-7f);
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++) {
            c0 = m.fma(a, c0);
            c1 = m.fma(a, c1);
            c2 = m.fma(a, c2);
            c3 = m.fma(a, c3);
            c4 = m.fma(a, c4);
            c5 = m.fma(a, c5);
            c6 = m.fma(a, c6);
            c7 = m.fma(a, c7);
            c8 = m.fma(a, c8);
            c9 = m.fma(a, c9);
            c10 = m.fma(a, c10);
            c11 = m.fma(a, c11);
        }
        return c0.add(c1).add(c2.add(c3)).add(c4.add(c5)).add(c6.add(c7)).add(c8.add(c9)).add(c10.add(c11))
                .reduceLanes(VectorOperators.ADD);
    }
}
