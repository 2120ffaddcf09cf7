package dev.gale.bench;

import dev.gale.runtime.sampling.Sampler;
import dev.gale.runtime.sampling.SamplingParams;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Time to choose one token from a Llama-3-sized vocabulary with the usual sampling settings: every server request
 * and every sampled CLI token pays it once per token. Logits are Gaussian (sd 3) with a few strong candidates.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SamplerBenchmark {
    @Param({"128256"})
    public int vocab;

    /** "temperature/top-k/top-p/min-p". */
    @Param({"0.8/0/1.0/0", "0.8/0/0.95/0", "0.8/40/0.95/0", "0.8/0/1.0/0.05"})
    public String settings;

    private float[] logits;
    private float[] work;
    private Sampler sampler;

    @Setup
    public void setUp() {
        Random r = new Random(1);
        logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) r.nextGaussian() * 3;
        }
        for (int i = 0; i < 20; i++) {
            logits[r.nextInt(vocab)] = 12 + (float) r.nextGaussian();
        }
        work = new float[vocab];
        String[] s = settings.split("/");
        sampler = new Sampler(new SamplingParams(Float.parseFloat(s[0]), Integer.parseInt(s[1]),
                Float.parseFloat(s[2]), Float.parseFloat(s[3]), 1f, 64, 0f, 0f, 42));
    }

    @Benchmark
    public int sample() {
        System.arraycopy(logits, 0, work, 0, vocab);
        return sampler.sample(work);
    }
}
