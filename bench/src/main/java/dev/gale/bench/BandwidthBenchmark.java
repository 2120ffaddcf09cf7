package dev.gale.bench;

import dev.gale.runtime.cpu.WorkerPool;
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

/** The machine's streaming read bandwidth ({@link MemoryBandwidth}), in GB/s in the {@code gigabytes} counter. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class BandwidthBenchmark {
    @Param({"1", "2"})
    public int threads;

    @Param({"1024"})
    public int megabytes;

    private WorkerPool pool;
    private MemoryBandwidth probe;


    @Setup
    public void setUp() {
        pool = new WorkerPool(threads);
        probe = new MemoryBandwidth((long) megabytes << 20);
    }

    @Benchmark
    public long read(Traffic traffic) {
        long s = probe.read(pool);
        traffic.gigabytes += probe.bytes() / 1e9;
        return s;
    }

    @TearDown
    public void tearDown() {
        pool.close();
        probe.close();
    }
}
