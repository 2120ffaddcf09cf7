package dev.gale.bench;

import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Tensor;
import dev.gale.runtime.cpu.ActivationRows;
import dev.gale.runtime.cpu.MatMul;
import dev.gale.runtime.cpu.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
 * How much work per byte a streaming read from memory carries before it falls below the machine's read bandwidth
 * ({@link BandwidthBenchmark}): the access pattern of the F16 decode product (each thread reads eight rows at once, 32
 * bytes of each per step, of an F16 matrix far larger than the caches) with
 * <ul>
 *   <li>{@code add}: an integer add per load, nothing else;
 *   <li>{@code widen}: sign extension, shift, add and a fused multiply-add per 16 values (four vector operations: the
 *       work of a hardware fp16 conversion and a multiply-add, but wrong for fp16 values);
 *   <li>{@code kernel}: Gale's F16 decode product ({@link MatMul}), whose exact fp16 conversion in the Vector API
 *       takes eight vector operations and the multiply-add one per 16 values (JDK 25's Vector API has no fp16
 *       conversion).
 * </ul>
 * GB/s of the matrix read, in the {@code gigabytes} counter.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:ObjectAlignmentInBytes=64"})
public class StreamWorkBenchmark {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Integer> I_HALF = IntVector.SPECIES_256;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Param({"add", "widen", "kernel"})
    public String work;

    @Param({"1", "2"})
    public int threads;

    @Param({"1024"})
    public int megabytes;

    @Param({"2048"})
    public int cols;

    private Arena arena;
    private WorkerPool pool;
    private MatMul matMul;
    private Tensor matrix;
    private MemorySegment data;
    private ActivationRows x;
    private float[] activations;
    private float[] out;
    private int[][] sinks;
    private WorkerPool.RangeBody body;


    @Setup
    public void setUp() {
        if (cols <= 0 || cols % 16 != 0) {
            throw new IllegalArgumentException("cols: a positive multiple of 16, not " + cols);
        }
        arena = Arena.ofShared();
        Random rnd = new Random(42);
        int rows = (int) (((long) megabytes << 20) / (2L * cols));
        if (rows < 8 * threads) {
            throw new IllegalArgumentException("megabytes: " + megabytes + " holds " + rows + " rows of " + cols
                    + "; at least " + 8 * threads + " needed");
        }
        matrix = RandomWeights.matrix(GgmlType.F16, cols, rows, rnd, arena);
        data = matrix.data();
        x = new ActivationRows(1, cols);
        for (int i = 0; i < cols; i++) {
            x.values()[i] = (float) rnd.nextGaussian();
        }
        x.set(1);
        activations = x.values().clone();
        out = new float[rows];
        pool = new WorkerPool(threads);
        matMul = new MatMul(pool);
        sinks = new int[threads][16];
        long rowBytes = 2L * cols;
        body = switch (work) {
            case "add" -> (start, end) -> {
                int q = (end - start) / 8;
                int[] sink = sinks[pool.workerIndex()];
                for (int r = start; r < start + q; r++) {
                    add8(data, r * rowBytes, q * rowBytes, cols, sink);
                }
            };
            case "widen" -> (start, end) -> {
                int q = (end - start) / 8;
                int[] sink = sinks[pool.workerIndex()];
                for (int r = start; r < start + q; r++) {
                    widen8(data, r * rowBytes, q * rowBytes, cols, activations, sink);
                }
            };
            case "kernel" -> null;
            default -> throw new IllegalArgumentException("work: add, widen or kernel, not " + work);
        };
    }

    @Benchmark
    public float read(Traffic traffic) {
        if (body == null) {
            matMul.apply(matrix, x, out);
        } else {
            pool.parallelFor(matrix.rows(), 64, body);
        }
        traffic.gigabytes += data.byteSize() / 1e9;
        return out[0] + sinks[0][0];
    }

    /** Rows {@code offset + j * gap}, j < 8, 32 bytes of each per step, an integer add per load. */
    private static void add8(MemorySegment w, long offset, long gap, int cols, int[] sink) {
        long o0 = offset;
        long o1 = offset + gap;
        long o2 = offset + 2 * gap;
        long o3 = offset + 3 * gap;
        long o4 = offset + 4 * gap;
        long o5 = offset + 5 * gap;
        long o6 = offset + 6 * gap;
        long o7 = offset + 7 * gap;
        IntVector a0 = IntVector.zero(I_HALF);
        IntVector a1 = a0;
        IntVector a2 = a0;
        IntVector a3 = a0;
        IntVector a4 = a0;
        IntVector a5 = a0;
        IntVector a6 = a0;
        IntVector a7 = a0;
        for (long b = 0; b < 2L * cols; b += 32) {
            a0 = a0.add(ShortVector.fromMemorySegment(S, w, o0 + b, LE).reinterpretAsInts());
            a1 = a1.add(ShortVector.fromMemorySegment(S, w, o1 + b, LE).reinterpretAsInts());
            a2 = a2.add(ShortVector.fromMemorySegment(S, w, o2 + b, LE).reinterpretAsInts());
            a3 = a3.add(ShortVector.fromMemorySegment(S, w, o3 + b, LE).reinterpretAsInts());
            a4 = a4.add(ShortVector.fromMemorySegment(S, w, o4 + b, LE).reinterpretAsInts());
            a5 = a5.add(ShortVector.fromMemorySegment(S, w, o5 + b, LE).reinterpretAsInts());
            a6 = a6.add(ShortVector.fromMemorySegment(S, w, o6 + b, LE).reinterpretAsInts());
            a7 = a7.add(ShortVector.fromMemorySegment(S, w, o7 + b, LE).reinterpretAsInts());
        }
        a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).intoArray(sink, 0);
    }

    /** As {@link #add8}, with a sign extension, shift and add to a float's bits and a multiply-add per 16 values (written out: a
     * helper returning a vector allocates where the JIT does not inline it). */
    private static void widen8(MemorySegment w, long offset, long gap, int cols, float[] x, int[] sink) {
        long o0 = offset;
        long o1 = offset + gap;
        long o2 = offset + 2 * gap;
        long o3 = offset + 3 * gap;
        long o4 = offset + 4 * gap;
        long o5 = offset + 5 * gap;
        long o6 = offset + 6 * gap;
        long o7 = offset + 7 * gap;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        for (int i = 0; i < cols; i += 16) {
            FloatVector xv = FloatVector.fromArray(F, x, i);
            a0 = ((IntVector) ShortVector.fromMemorySegment(S, w, o0 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).add(0x38000000).reinterpretAsFloats().fma(xv, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(S, w, o1 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).add(0x38000000).reinterpretAsFloats().fma(xv, a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(S, w, o2 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).add(0x38000000).reinterpretAsFloats().fma(xv, a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(S, w, o3 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).add(0x38000000).reinterpretAsFloats().fma(xv, a3);
            a4 = ((IntVector) ShortVector.fromMemorySegment(S, w, o4 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).add(0x38000000).reinterpretAsFloats().fma(xv, a4);
            a5 = ((IntVector) ShortVector.fromMemorySegment(S, w, o5 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).add(0x38000000).reinterpretAsFloats().fma(xv, a5);
            a6 = ((IntVector) ShortVector.fromMemorySegment(S, w, o6 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).add(0x38000000).reinterpretAsFloats().fma(xv, a6);
            a7 = ((IntVector) ShortVector.fromMemorySegment(S, w, o7 + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).add(0x38000000).reinterpretAsFloats().fma(xv, a7);
        }
        a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).reinterpretAsInts().intoArray(sink, 0);
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }
}
