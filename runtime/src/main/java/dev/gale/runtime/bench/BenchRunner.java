package dev.gale.runtime.bench;

import dev.gale.model.Model;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.BackendProvider;
import dev.gale.runtime.backend.Backends;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.backend.Logits;
import dev.gale.runtime.load.ModelLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Measures models on backends. One repetition loads the model from its file (open, page in, load on the backend,
 * one forward pass: the load time), prefills each prompt length from an empty cache (time to first token, prefill
 * throughput), then decodes greedily after the shortest prompt (decode throughput). Prompts are prefixes of one
 * seeded random token sequence, so every target sees the same tokens.
 */
public final class BenchRunner {
    private final BenchSettings settings;
    private final HostMemory memory;
    private final Consumer<String> progress;

    /** @param progress told the name of each finished step; there are {@link #steps} of them */
    public BenchRunner(BenchSettings settings, HostMemory memory, Consumer<String> progress) {
        this.settings = settings;
        this.memory = memory;
        this.progress = progress;
    }

    /** Steps {@link #run} reports for this many models and targets. */
    public static long steps(BenchSettings settings, int models, int targets) {
        return (long) models * targets * (settings.warmup() + settings.reps()) * (2 + settings.promptTokens().size());
    }

    /**
     * Measures every model on every target. A model or target that fails is added to the report's skipped list with
     * the reason, and the run goes on.
     */
    public BenchReport run(List<Path> models, List<BenchTarget> targets, List<String> skipped, Double pricePerHour) {
        String started = OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString();
        List<BenchResult> results = new ArrayList<>();
        List<String> notRun = new ArrayList<>(skipped);
        for (Path model : models) {
            for (BenchTarget target : targets) {
                try {
                    results.add(measure(model, Backends.named(target.backend()), target, pricePerHour));
                } catch (IOException | RuntimeException e) {
                    notRun.add(model.getFileName() + " on " + target.label() + ": " + e.getMessage());
                }
            }
        }
        String version = BenchRunner.class.getPackage().getImplementationVersion();
        return new BenchReport(started, version != null ? version : "development build", MachineInfo.detect(),
                settings, pricePerHour, memory.description(), results, notRun);
    }

    /** Warm-up and measured repetitions of one model on one target. */
    public BenchResult measure(Path file, BackendProvider provider, BenchTarget target, Double pricePerHour)
            throws IOException {
        ModelInfo info;
        Plan plan;
        try (Model m = Model.open(file)) {
            info = ModelInfo.of(m);
            plan = Plan.of(settings, m.config().contextLength(), m.config().vocabSize());
        }
        String label = info.label() + ", " + target.label();
        int prompts = plan.promptTokens.length;
        double coldLoad = Double.NaN;
        double[] load = new double[settings.reps()];
        double[][] ttft = new double[prompts][settings.reps()];
        double[][] prefill = new double[prompts][settings.reps()];
        double[] decode = new double[settings.reps()];
        double[] host = new double[settings.reps()];
        double[] device = new double[settings.reps()];
        boolean deviceReported = false;
        for (int rep = 0; rep < settings.warmup() + settings.reps(); rep++) {
            Sample s = repetition(file, provider, target, plan, info.fileBytes(), label);
            if (rep == 0) {
                coldLoad = s.loadMs;
            }
            int r = rep - settings.warmup();
            if (r < 0) {
                continue;
            }
            load[r] = s.loadMs;
            for (int i = 0; i < prompts; i++) {
                ttft[i][r] = s.ttftMs[i];
                prefill[i][r] = s.prefillTokensPerSecond[i];
            }
            decode[r] = s.decodeTokensPerSecond;
            host[r] = s.peakHostBytes;
            device[r] = s.peakDeviceBytes;
            deviceReported = s.peakDeviceBytes >= 0;
        }
        List<PromptResult> promptResults = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            promptResults.add(new PromptResult(settings.promptTokens().get(i), plan.promptTokens[i],
                    Stats.of(ttft[i]), Stats.of(prefill[i])));
        }
        Stats decodeStats = Stats.of(decode);
        TokenCost cost = pricePerHour == null ? null : TokenCost.of(pricePerHour,
                promptResults.getLast().prefillTokensPerSecond().median(), decodeStats.median());
        return new BenchResult(info, target, plan.context, coldLoad, Stats.of(load), promptResults, plan.decodeTokens,
                plan.decodeStart, decodeStats, Stats.of(host), deviceReported ? Stats.of(device) : null, cost);
    }

    private Sample repetition(Path file, BackendProvider provider, BenchTarget target, Plan plan, long fileBytes,
                              String label) throws IOException {
        int prompts = plan.promptTokens.length;
        Sample s = new Sample(prompts);
        memory.resetPeak();
        long start = System.nanoTime();
        try (Model model = ModelLoader.load(file, false, System.err);
             InferenceEngine engine = provider.load(model,
                     new BackendOptions(target.threads(), target.deviceIndex(), plan.context));
             InferenceSession session = engine.newSession(plan.context)) {
            session.forward(plan.tokens, 0, 1, false);
            s.loadMs = (System.nanoTime() - start) / 1e6;
            s.sampleDevice(engine);
            progress.accept(label + ": load");
            for (int i = 0; i < prompts; i++) {
                int n = plan.promptTokens[i];
                session.truncate(0);
                long a = System.nanoTime();
                float[] logits = session.forward(plan.tokens, 0, n, false);
                long b = System.nanoTime();
                Logits.argmax(logits);
                long c = System.nanoTime();
                s.ttftMs[i] = (c - a) / 1e6;
                s.prefillTokensPerSecond[i] = n * 1e9 / (b - a);
                s.sampleDevice(engine);
                progress.accept(label + ": prefill " + n);
            }
            session.truncate(plan.decodeStart);
            int next = plan.tokens[plan.decodeStart];
            long a = System.nanoTime();
            for (int k = 0; k < plan.decodeTokens; k++) {
                next = session.decodeGreedy(next);
            }
            s.decodeTokensPerSecond = plan.decodeTokens * 1e9 / (System.nanoTime() - a);
            s.sampleDevice(engine);
            s.peakHostBytes = memory.peakBytes(fileBytes);
            progress.accept(label + ": decode " + plan.decodeTokens);
        }
        return s;
    }

    /** The figures of one repetition. */
    private static final class Sample {
        double loadMs;
        final double[] ttftMs;
        final double[] prefillTokensPerSecond;
        double decodeTokensPerSecond;
        long peakHostBytes;
        long peakDeviceBytes = -1;

        Sample(int prompts) {
            ttftMs = new double[prompts];
            prefillTokensPerSecond = new double[prompts];
        }

        void sampleDevice(InferenceEngine engine) {
            engine.deviceMemoryBytes().ifPresent(b -> peakDeviceBytes = Math.max(peakDeviceBytes, b));
        }
    }

    /**
     * The settings fitted to one model's context: prompt lengths clamped to it, decoding started early enough to
     * fit, and the random token sequence the prompts are prefixes of.
     */
    private record Plan(int[] promptTokens, int decodeStart, int decodeTokens, int context, int[] tokens) {

        static Plan of(BenchSettings settings, int modelContext, int vocabSize) {
            if (modelContext < 2) {
                throw new IllegalArgumentException("the model's context (" + modelContext + ") is too short to benchmark");
            }
            int[] prompts = settings.promptTokens().stream().mapToInt(p -> Math.min(p, modelContext)).toArray();
            int longest = Arrays.stream(prompts).max().orElseThrow();
            int shortest = Arrays.stream(prompts).min().orElseThrow();
            int decodeTokens = Math.min(settings.decodeTokens(), modelContext - 1);
            int decodeStart = Math.min(shortest, modelContext - decodeTokens);
            int context = Math.max(longest, decodeStart + decodeTokens);
            SplittableRandom random = new SplittableRandom(settings.seed());
            int[] tokens = random.ints(Math.max(longest, decodeStart + 1), 0, vocabSize).toArray();
            return new Plan(prompts, decodeStart, decodeTokens, context, tokens);
        }
    }
}
