package dev.gale.runtime.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Two benchmark reports side by side (before and after a change, two machines, two backends): results are paired by
 * the chosen keys and every figure is shown as {@code A → B (B/A)}.
 */
public final class BenchComparison {

    /** What must be equal for two results to be paired. */
    public enum MatchKey {
        /** the model file name */
        MODEL(r -> r.model().file()),
        /** the backend name */
        BACKEND(r -> r.target().backend()),
        /** the device index within the backend (so that device 0 of two machines pairs) */
        DEVICE(r -> r.target().deviceIndex()),
        /** the CPU thread count */
        THREADS(r -> r.target().threads());

        private final Function<BenchResult, Object> value;

        MatchKey(Function<BenchResult, Object> value) {
            this.value = value;
        }
    }

    /** One result of A and the result of B it was paired with. */
    public record Pair(BenchResult a, BenchResult b) {
    }

    private BenchComparison() {}

    /** Pairs results in order: each result of A with the first unpaired result of B that agrees on every key. */
    public static List<Pair> pair(BenchReport a, BenchReport b, Set<MatchKey> keys) {
        List<BenchResult> unpaired = new ArrayList<>(b.results());
        List<Pair> pairs = new ArrayList<>();
        for (BenchResult ra : a.results()) {
            for (BenchResult rb : unpaired) {
                if (keys.stream().allMatch(k -> Objects.equals(k.value.apply(ra), k.value.apply(rb)))) {
                    pairs.add(new Pair(ra, rb));
                    unpaired.remove(rb);
                    break;
                }
            }
        }
        return pairs;
    }

    /** The comparison as Markdown. */
    public static String render(String nameA, BenchReport a, String nameB, BenchReport b, Set<MatchKey> keys) {
        List<Pair> pairs = pair(a, b, keys);
        StringBuilder md = new StringBuilder();
        md.append("## Comparison: B / A\n\n");
        md.append("A: ").append(nameA).append(" (").append(describe(a)).append(")\n\n");
        md.append("B: ").append(nameB).append(" (").append(describe(b)).append(")\n\n");
        md.append("Results paired by ").append(keys.isEmpty() ? "order" : String.join(", ",
                keys.stream().map(k -> k.name().toLowerCase(Locale.ROOT)).toList())).append("; each cell is the median of A → the median of B (B/A). ")
                .append("For tok/s above 1× means B is faster; for ms and MiB above 1× means B takes longer or more.\n\n");
        Set<Integer> promptLengths = new LinkedHashSet<>();
        pairs.forEach(p -> p.a().prompts().forEach(x -> promptLengths.add(x.requestedTokens())));
        List<String> header = new ArrayList<>(List.of("Model", "Backend", "Device", "Threads", "Load ms"));
        promptLengths.forEach(p -> header.add("TTFT@" + p + " ms"));
        promptLengths.forEach(p -> header.add("Prefill@" + p + " tok/s"));
        header.addAll(List.of("Decode tok/s", "Host MiB", "Device MiB"));
        List<List<String>> rows = new ArrayList<>();
        for (Pair p : pairs) {
            BenchResult ra = p.a();
            BenchResult rb = p.b();
            List<String> row = new ArrayList<>(List.of(
                    either(ra.model().label(), rb.model().label()),
                    either(ra.target().backend(), rb.target().backend()),
                    either(ra.target().device(), rb.target().device()),
                    either(threads(ra), threads(rb)),
                    ratio(ra.loadMs().median(), rb.loadMs().median())));
            for (int len : promptLengths) {
                row.add(ratio(prompt(ra, len, PromptResult::ttftMs), prompt(rb, len, PromptResult::ttftMs)));
            }
            for (int len : promptLengths) {
                row.add(ratio(prompt(ra, len, PromptResult::prefillTokensPerSecond),
                        prompt(rb, len, PromptResult::prefillTokensPerSecond)));
            }
            row.add(ratio(ra.decodeTokensPerSecond().median(), rb.decodeTokensPerSecond().median()));
            row.add(ratio(ra.peakHostBytes().median() / (1 << 20), rb.peakHostBytes().median() / (1 << 20)));
            row.add(ra.peakDeviceBytes() == null || rb.peakDeviceBytes() == null ? "n/a"
                    : ratio(ra.peakDeviceBytes().median() / (1 << 20), rb.peakDeviceBytes().median() / (1 << 20)));
            rows.add(row);
        }
        if (rows.isEmpty()) {
            md.append("No results could be paired.\n");
        } else {
            BenchMarkdown.table(md, header, rows, 4);
        }
        List<BenchResult> pairedA = pairs.stream().map(Pair::a).toList();
        List<BenchResult> pairedB = pairs.stream().map(Pair::b).toList();
        appendUnpaired(md, "A", a.results(), pairedA);
        appendUnpaired(md, "B", b.results(), pairedB);
        return md.toString();
    }

    private static void appendUnpaired(StringBuilder md, String side, List<BenchResult> all, List<BenchResult> paired) {
        for (BenchResult r : all) {
            if (paired.stream().noneMatch(p -> p == r)) {
                md.append("\nOnly in ").append(side).append(": ").append(r.model().label()).append(" on ")
                        .append(r.target().label()).append('\n');
            }
        }
    }

    private static String describe(BenchReport r) {
        return r.timestamp() + ", " + r.machine().cpu() + ", " + r.machine().cores() + " cores, Java " + r.machine().jdk();
    }

    private static String threads(BenchResult r) {
        return r.target().threads() > 0 ? Integer.toString(r.target().threads()) : "-";
    }

    private static String either(String a, String b) {
        return a.equals(b) ? a : a + " → " + b;
    }

    private static double prompt(BenchResult r, int requested, Function<PromptResult, Stats> figure) {
        return r.prompts().stream().filter(p -> p.requestedTokens() == requested).findFirst()
                .map(p -> figure.apply(p).median()).orElse(Double.NaN);
    }

    /** {@code a → b (b/a×)}; "n/a" when either side is missing. */
    static String ratio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b)) {
            return "n/a";
        }
        String r = a > 0 ? String.format(Locale.ROOT, " (%.2f×)", b / a) : "";
        return BenchFormat.number(a) + " → " + BenchFormat.number(b) + r;
    }
}
