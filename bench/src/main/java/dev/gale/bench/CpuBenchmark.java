package dev.gale.bench;

import dev.gale.model.Model;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufTensorInfo;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.Backends;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.backend.Logits;
import dev.gale.runtime.cpu.WorkerPool;
import dev.gale.runtime.load.ModelLoader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * End-to-end CPU benchmark: for each model, the machine's read bandwidth (measured in the same run, with the same
 * number of threads, before and after the model runs), decode speed (one token at a time after a short prompt) and prefill speed (one batch of
 * prompt tokens), and how close decode comes to the memory-bandwidth bound: weight bytes read per token × tokens
 * per second ÷ read bandwidth. The bytes are those the backend reads: the CPU backend's repacked Q4_0 matrices are
 * 11 % larger than in the file ({@code InferenceEngine.weightBytesPerToken}).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.gale.bench.CpuBenchmark
 *     [--threads N] [--decode N] [--prefill N] [--repeats N] [--no-header] MODEL.gguf...</pre>
 *
 * {@code scripts/bench-cpu} runs it once per model, each in a fresh JVM, as a model is run in practice: the JIT
 * compiles the kernels for the types it sees, and one model's profile should not shape another's code.
 */
public final class CpuBenchmark {
    private CpuBenchmark() {}

    record Options(int threads, int decodeTokens, int prefillTokens, int repeats, boolean header, List<Path> models) {
        static Options parse(String[] args) {
            int threads = Runtime.getRuntime().availableProcessors();
            int decode = 64;
            int prefill = 128;
            int repeats = 3;
            boolean header = true;
            List<Path> models = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--threads" -> threads = positive(args, ++i);
                    case "--decode" -> decode = positive(args, ++i);
                    case "--prefill" -> prefill = positive(args, ++i);
                    case "--repeats" -> repeats = positive(args, ++i);
                    case "--no-header" -> header = false;
                    default -> {
                        if (args[i].startsWith("--")) {
                            throw new IllegalArgumentException("unknown option " + args[i]);
                        }
                        models.add(Path.of(args[i]));
                    }
                }
            }
            if (models.isEmpty()) {
                throw new IllegalArgumentException("usage: CpuBenchmark [--threads N] [--decode N] [--prefill N]"
                        + " [--repeats N] [--no-header] MODEL.gguf...");
            }
            return new Options(threads, decode, prefill, repeats, header, models);
        }

        /** The value after option {@code args[i - 1]}, at least 1. */
        private static int positive(String[] args, int i) {
            return BenchArgs.atLeast(args[i - 1], i < args.length ? args[i] : null, 1);
        }
    }

    /** One model's figures. */
    record Result(String model, String types, double gigabytesPerToken, double decodeTokensPerSecond,
                  double prefillTokensPerSecond, double bandwidth, double prefillGigaflopsPerToken, double fmaPeak) {
        double boundFraction() {
            return gigabytesPerToken * decodeTokensPerSecond / bandwidth;
        }

        /** Prefill's rate of matrix arithmetic, GFLOP/s. */
        double prefillGigaflops() {
            return prefillGigaflopsPerToken * prefillTokensPerSecond;
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = BenchArgs.parseOrExit("CpuBenchmark", args, Options::parse);
        PrintStream out = System.out;
        if (o.header()) {
            out.printf("CPU benchmark: %d threads, decode %d tokens, prefill %d tokens, best of %d; Java %s%n",
                    o.threads(), o.decodeTokens(), o.prefillTokens(), o.repeats(), Runtime.version());
            out.printf("%-34s %-16s %9s %11s %12s %10s %8s %12s %8s%n", "model", "matrices", "GB/token", "decode t/s",
                    "prefill t/s", "bw GB/s", "of bound", "peak GFLOP/s", "of peak");
        }
        List<Result> results = new ArrayList<>();
        for (Path p : o.models()) {
            Result r;
            try {
                r = run(p, o);
            } catch (IOException e) {
                System.err.println("CpuBenchmark: " + e.getMessage());
                System.exit(1);
                return;
            }
            results.add(r);
            System.err.println(format(r));
        }
        for (Result r : results) {
            out.printf("%-34s %-16s %9.3f %11.2f %12.2f %10.2f %7.0f%% %12.0f %7.0f%%%n", r.model(), r.types(),
                    r.gigabytesPerToken(), r.decodeTokensPerSecond(), r.prefillTokensPerSecond(), r.bandwidth(),
                    100 * r.boundFraction(), r.fmaPeak(), 100 * r.prefillGigaflops() / r.fmaPeak());
        }
    }

    private static String format(Result r) {
        return String.format("%s [%s]: decode %.2f tok/s (%.1f GB/s of weights, %.0f%% of the %.2f GB/s read bandwidth),"
                        + " prefill %.2f tok/s (%.0f GFLOP/s of matrix products, %.0f%% of the %.0f GFLOP/s FMA peak)",
                r.model(), r.types(), r.decodeTokensPerSecond(), r.gigabytesPerToken() * r.decodeTokensPerSecond(),
                100 * r.boundFraction(), r.bandwidth(), r.prefillTokensPerSecond(), r.prefillGigaflops(),
                100 * r.prefillGigaflops() / r.fmaPeak(), r.fmaPeak());
    }

    static Result run(Path path, Options o) throws Exception {
        int ctx = o.prefillTokens() + o.decodeTokens() + 16;
        // the read bandwidth before and after the model runs; the higher one is the machine's (a shared machine's
        // neighbours depress it at times)
        double bandwidth = bandwidth(o.threads());
        try (Model model = ModelLoader.load(path, false, System.err);
             InferenceEngine engine = Backends.named("cpu").load(model, new BackendOptions(o.threads(), 0, ctx))) {
            int vocab = model.config().vocabSize();
            SplittableRandom rnd = new SplittableRandom(1);
            int[] prompt = rnd.ints(o.prefillTokens(), 0, vocab).toArray();
            // warm up the JIT on both paths
            try (InferenceSession s = engine.newSession(ctx)) {
                s.forward(prompt, 0, Math.min(32, prompt.length), false);
                for (int i = 0; i < 8; i++) {
                    s.decode(i);
                }
            }
            double prefill = 0;
            double decode = 0;
            for (int rep = 0; rep < o.repeats(); rep++) {
                try (InferenceSession s = engine.newSession(ctx)) {
                    long t0 = System.nanoTime();
                    float[] logits = s.forward(prompt, false);
                    long t1 = System.nanoTime();
                    prefill = Math.max(prefill, prompt.length / ((t1 - t0) / 1e9));
                    int next = Logits.argmax(logits);
                    s.truncate(Math.min(8, prompt.length));
                    long t2 = System.nanoTime();
                    for (int i = 0; i < o.decodeTokens(); i++) {
                        next = s.decodeGreedy(next);
                    }
                    long t3 = System.nanoTime();
                    decode = Math.max(decode, o.decodeTokens() / ((t3 - t2) / 1e9));
                }
            }
            bandwidth = Math.max(bandwidth, bandwidth(o.threads()));
            double peak = fmaPeak(o.threads());
            return new Result(path.getFileName().toString(), matrixTypes(model),
                    engine.weightBytesPerToken().orElse(model.weights().bytesPerToken()) / 1e9, decode, prefill,
                    bandwidth, prefillGigaflopsPerToken(model, prompt.length), peak);
        }
    }

    private static double bandwidth(int threads) {
        try (WorkerPool pool = new WorkerPool(threads); MemoryBandwidth probe = new MemoryBandwidth(1L << 30)) {
            return probe.measure(pool, 5);
        }
    }

    private static double fmaPeak(int threads) {
        try (WorkerPool pool = new WorkerPool(threads)) {
            return FmaPeak.measure(pool);
        }
    }

    /**
     * GFLOP per prompt token of a prefill's matrix products: two a weight of every layer's matrices, and the output
     * projection's once for the prompt (its last token's logits). Attention's products are not counted.
     */
    static double prefillGigaflopsPerToken(Model model, int promptTokens) {
        long layers = 0;
        long output = 0;
        boolean tied = model.gguf().tensors().stream().noneMatch(t -> t.name().equals("output.weight"));
        for (GgufTensorInfo t : model.gguf().tensors()) {
            if (t.rank() >= 2 && t.name().startsWith("blk.")) {
                layers += t.elementCount();
            } else if (t.name().equals(tied ? "token_embd.weight" : "output.weight")) {
                output = t.elementCount();
            }
        }
        return (2.0 * layers + 2.0 * output / promptTokens) / 1e9;
    }

    /** The types of the 2-D tensors, most bytes first: "Q8_0", "Q4_K+Q8_0". */
    private static String matrixTypes(Model model) {
        Map<GgmlType, Long> bytes = new TreeMap<>();
        for (GgufTensorInfo t : model.gguf().tensors()) {
            if (t.rank() >= 2) {
                bytes.merge(t.type(), t.byteSize(), Long::sum);
            }
        }
        return bytes.entrySet().stream().sorted(Map.Entry.<GgmlType, Long>comparingByValue().reversed())
                .map(e -> e.getKey().name()).reduce((a, b) -> a + "+" + b).orElse("-");
    }
}
