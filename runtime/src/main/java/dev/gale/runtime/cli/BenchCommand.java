package dev.gale.runtime.cli;

import dev.gale.model.convert.MatrixTypes;
import dev.gale.model.convert.ModelShape;
import dev.gale.runtime.backend.BackendProvider;
import dev.gale.runtime.backend.Backends;
import dev.gale.runtime.bench.BenchComparison;
import dev.gale.runtime.bench.BenchFiles;
import dev.gale.runtime.bench.BenchJson;
import dev.gale.runtime.bench.BenchMarkdown;
import dev.gale.runtime.bench.BenchReport;
import dev.gale.runtime.bench.BenchRunner;
import dev.gale.runtime.bench.BenchSettings;
import dev.gale.runtime.bench.BenchTarget;
import dev.gale.runtime.bench.HostMemory;
import dev.gale.runtime.bench.SyntheticModels;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gale bench}: every model on every backend, device and thread count; or two results compared. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark models on every available backend and device: load time, time to first token, "
                + "prefill and decode throughput, peak memory, and cost per token at a given hardware price.",
                "Writes results.json, results.csv, results.md, decode.png and prefill.png to --out and prints the "
                        + "table. With --compare, prints the ratios of two results.json files instead."})
final class BenchCommand implements Callable<Integer>, CommonOptions.Holder {
    @Mixin
    CommonOptions common;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE", description = "GGUF model file to measure (repeatable).")
    List<Path> models = new ArrayList<>();

    @Option(names = "--shape", paramLabel = "NAME", split = ",",
            description = "Also measure a model of this real shape with seeded random weights, written to a temporary "
                    + "folder and deleted afterwards (repeatable): ${COMPLETION-CANDIDATES}.",
            completionCandidates = ShapeNames.class)
    List<String> shapes = new ArrayList<>();

    @Option(names = "--type", paramLabel = "TYPE", split = ",", defaultValue = "Q8_0",
            description = "Weight types of the --shape models, e.g. Q8_0,Q4_0,Q4_K (default: ${DEFAULT-VALUE}).")
    List<String> types;

    @Option(names = "--vocab", paramLabel = "FILE",
            description = "GGUF whose tokenizer the --shape models take (a model or vocabulary-only file; padded or "
                    + "cut to the shape's vocabulary size).")
    Path vocab;

    @Option(names = "--backend", paramLabel = "NAME", split = ",",
            description = "Only these backends (default: every available one, each on all its devices).")
    List<String> backends = new ArrayList<>();

    @Option(names = "--threads", split = ",", paramLabel = "N",
            description = "CPU backend thread counts (default: 1 and all cores).")
    List<Integer> threads = new ArrayList<>();

    @Option(names = "--prompt-tokens", split = ",", defaultValue = "128,512", paramLabel = "N",
            description = "Prompt lengths for time to first token and prefill, clamped to the model's context "
                    + "(default: ${DEFAULT-VALUE}).")
    List<Integer> promptTokens;

    @Option(names = "--decode-tokens", defaultValue = "128", paramLabel = "N",
            description = "Tokens to decode greedily after the shortest prompt (default: ${DEFAULT-VALUE}).")
    int decodeTokens;

    @Option(names = "--reps", defaultValue = "3", paramLabel = "N",
            description = "Measured repetitions; figures are their median, min and max (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--warmup", defaultValue = "1", paramLabel = "N",
            description = "Untimed repetitions first; the first one's load time is reported as the cold load "
                    + "(default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "S", description = "Seed of the random prompt tokens (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--price-per-hour", paramLabel = "USD",
            description = "Hardware price in $/h: adds $ per 1M input and output tokens, next to hosted API prices.")
    Double pricePerHour;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: bench-results/<timestamp>).")
    Path out;

    @Option(names = "--compare", arity = "2", paramLabel = "RESULTS.json",
            description = "Compare two results.json files (A then B) instead of measuring: prints A → B (B/A).")
    List<Path> compare;

    @Option(names = "--match", split = ",", paramLabel = "KEY",
            description = "With --compare: pair results that agree on these keys: model (file name), backend, device "
                    + "(index), threads (default: all four). E.g. --match model to compare two backends.")
    List<BenchComparison.MatchKey> match;

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() throws Exception {
        if (compare != null) {
            if (!models.isEmpty()) {
                throw new IllegalArgumentException("--compare compares two results files; it takes no --model");
            }
            EnumSet<BenchComparison.MatchKey> keys = match == null || match.isEmpty()
                    ? EnumSet.allOf(BenchComparison.MatchKey.class) : EnumSet.copyOf(match);
            BenchReport a = BenchJson.read(compare.get(0));
            BenchReport b = BenchJson.read(compare.get(1));
            System.out.print(BenchComparison.render(compare.get(0).toString(), a, compare.get(1).toString(), b, keys));
            return 0;
        }
        if (match != null) {
            throw new IllegalArgumentException("--match only applies with --compare");
        }
        if (models.isEmpty() && shapes.isEmpty()) {
            throw new IllegalArgumentException("give at least one --model FILE or --shape NAME (or --compare A.json B.json)");
        }
        if (!shapes.isEmpty() && vocab == null) {
            throw new IllegalArgumentException("--shape needs --vocab FILE: a GGUF whose tokenizer the synthesized "
                    + "models take (any model or vocabulary-only file)");
        }
        if (pricePerHour != null && !(pricePerHour >= 0)) {
            throw new IllegalArgumentException("--price-per-hour must be >= 0, got " + pricePerHour);
        }
        List<ModelShape> shapeList = shapes.stream().map(ModelShape::named).toList();
        List<MatrixTypes> typeList = types.stream().map(QuantizeCommand::parseMatrixTypes).toList();
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> cpuThreads = threads.isEmpty() ? List.of(1, cores).stream().distinct().toList()
                : threads.stream().distinct().toList();
        for (int t : cpuThreads) {
            if (t < 1) {
                throw new IllegalArgumentException("--threads must be >= 1, got " + t);
            }
        }
        BenchSettings settings = new BenchSettings(promptTokens, decodeTokens, warmup, reps, seed);
        List<BackendProvider> providers = backends.isEmpty() ? Backends.all()
                : backends.stream().map(Backends::named).toList();
        List<String> skipped = new ArrayList<>();
        List<BenchTarget> targets = BenchTarget.all(providers, cpuThreads, skipped);
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("no backend can run here: " + String.join("; ", skipped));
        }
        Path dir = out != null ? out
                : Path.of("bench-results", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        HostMemory memory = HostMemory.detect();
        BenchReport report;
        try (SyntheticModels synthetic = new SyntheticModels()) {
            List<Path> all = new ArrayList<>(models);
            for (ModelShape shape : shapeList) {
                for (MatrixTypes type : typeList) {
                    System.err.printf("synthesizing %s %s...%n", shape.name(), type);
                    all.add(synthetic.write(shape, type, vocab, seed));
                }
            }
            report = run(settings, memory, all, targets, skipped);
        }
        List<Path> files = BenchFiles.write(report, dir, System.err);
        System.out.print(BenchMarkdown.render(report));
        System.err.println("wrote " + files.stream().map(Path::toString).collect(Collectors.joining(", ")));
        return report.results().isEmpty() ? 1 : 0;
    }

    /** Runs the benchmark under a progress bar on stderr. */
    private BenchReport run(BenchSettings settings, HostMemory memory, List<Path> models, List<BenchTarget> targets,
                            List<String> skipped) {
        try (ProgressBar bar = new ProgressBarBuilder()
                .setTaskName("Benchmark")
                .setInitialMax(BenchRunner.steps(settings, models.size(), targets.size()))
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .setUpdateIntervalMillis(250)
                .build()) {
            BenchRunner runner = new BenchRunner(settings, memory, step -> {
                bar.setExtraMessage(step);
                bar.step();
            });
            return runner.run(models, targets, skipped, pricePerHour);
        }
    }

    /** The shape presets, for the help text. */
    static final class ShapeNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ModelShape.PRESETS.stream().map(ModelShape::name).iterator();
        }
    }
}
