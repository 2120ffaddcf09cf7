package dev.gale.bench;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import dev.gale.runtime.cpu.ActivationRows;
import dev.gale.runtime.cpu.MatMul;
import dev.gale.runtime.cpu.WorkerPool;
import java.lang.foreign.Arena;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU matmul kernels on weights in each supported type: one activation row (decode, a matrix-vector product)
 * or a batch of them (prefill). The weights rotate through a set much larger than the caches, as in a forward pass.
 * The {@code gigabytes} counter is the rate of weight bytes read (GB/s): compare it with {@link BandwidthBenchmark}.
 * Q4_0 weights are read as the engine reads them, from their repacked copies (11 % more bytes, counted);
 * {@code -jvmArgsAppend -Dgale.cpu.repack=false} measures the in-place kernel instead.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:ObjectAlignmentInBytes=64"})
public class MatMulBenchmark {
    /** Weight bytes the rotation set holds at least. */
    private static final long WORKING_SET = 512L << 20;

    @Param({"Q8_0", "Q4_0", "F16", "BF16", "F32", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    /** Activation rows per product: 1 = decode, more = a prefill batch. */
    @Param({"1"})
    public int tokens;

    @Param({"1"})
    public int threads;

    @Param({"2048"})
    public int cols;

    @Param({"2048"})
    public int rows;

    private Arena arena;
    private WorkerPool pool;
    private MatMul matMul;
    private Tensor[] weights;
    private ActivationRows x;
    private float[] out;
    private double gigabytesPerProduct;
    private int next;


    @Setup
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        Random rnd = new Random(42);
        long bytes = t.byteSize((long) cols * rows);
        weights = new Tensor[(int) Math.max(1, (WORKING_SET + bytes - 1) / bytes)];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = RandomWeights.matrix(t, cols, rows, rnd, arena);
        }
        x = new ActivationRows(tokens, cols);
        for (int i = 0; i < tokens * cols; i++) {
            x.values()[i] = (float) rnd.nextGaussian();
        }
        out = new float[tokens * rows];
        pool = new WorkerPool(threads);
        matMul = MatMul.repacking(pool, java.util.List.of(weights));
        gigabytesPerProduct = matMul.weightBytes(weights[0]) / 1e9;
    }

    @Benchmark
    public float matmul(Traffic traffic) {
        Tensor w = weights[next];
        next = next + 1 == weights.length ? 0 : next + 1;
        x.set(tokens);
        matMul.apply(w, x, out);
        traffic.gigabytes += gigabytesPerProduct;
        return out[0];
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }
}
