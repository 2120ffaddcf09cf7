package dev.gale.runtime.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** A {@link BenchReport} as Markdown: the results table and, with a price per hour, the cost table. */
public final class BenchMarkdown {
    private BenchMarkdown() {}

    public static String render(BenchReport report) {
        BenchSettings s = report.settings();
        MachineInfo m = report.machine();
        StringBuilder md = new StringBuilder();
        md.append("## Gale benchmark, ").append(report.timestamp()).append("\n\n");
        md.append("Machine: ").append(m.cpu()).append(", ").append(m.cores()).append(" cores")
                .append(m.memoryBytes() > 0 ? String.format(Locale.ROOT, ", %.1f GiB", m.memoryBytes() / (double) (1L << 30)) : "")
                .append("; ").append(m.os()).append("; Java ").append(m.jdk()).append(" (").append(m.jdkVendor()).append(")")
                .append("; TornadoVM ").append(m.tornadovm() != null ? m.tornadovm() : "not present").append("; Gale ")
                .append(report.gale()).append(".\n\n");
        md.append("Random prompts of ").append(s.promptTokens().stream().map(String::valueOf).collect(Collectors.joining(", ")))
                .append(" tokens (seed ").append(s.seed()).append("), greedy decoding of ").append(s.decodeTokens())
                .append(" tokens; ").append(s.warmup()).append(" warm-up + ").append(s.reps())
                .append(" measured repetitions: median").append(s.reps() > 1 ? " (min–max)" : "").append(".\n\n");

        List<String> header = new ArrayList<>(List.of("Model", "Type", "Backend", "Device", "Threads", "Load s (cold)"));
        for (int p : s.promptTokens()) {
            header.add("TTFT@" + p + " ms");
        }
        for (int p : s.promptTokens()) {
            header.add("Prefill@" + p + " tok/s");
        }
        header.addAll(List.of("Decode tok/s", "Host MiB", "Device MiB"));
        List<List<String>> rows = new ArrayList<>();
        for (BenchResult r : report.results()) {
            List<String> row = new ArrayList<>(List.of(r.model().baseName(), r.model().weightType(),
                    r.target().backend(), r.target().device(), r.target().threads() > 0 ? Integer.toString(r.target().threads()) : "-",
                    BenchFormat.number(r.loadMs().median() / 1000) + " (" + BenchFormat.number(r.coldLoadMs() / 1000) + ")"));
            for (PromptResult p : r.prompts()) {
                row.add(BenchFormat.stats(p.ttftMs()) + clampNote(p));
            }
            for (PromptResult p : r.prompts()) {
                row.add(BenchFormat.stats(p.prefillTokensPerSecond()) + clampNote(p));
            }
            row.add(BenchFormat.stats(r.decodeTokensPerSecond())
                    + (r.decodeTokens() != s.decodeTokens() ? " (" + r.decodeTokens() + " tokens)" : ""));
            row.add(BenchFormat.mebibytes(r.peakHostBytes().median()));
            row.add(r.peakDeviceBytes() != null ? BenchFormat.mebibytes(r.peakDeviceBytes().median()) : "n/a");
            rows.add(row);
        }
        table(md, header, rows, 5);
        md.append("\nLoad: open the file, page the weights in, load on the backend, first forward pass (cold: the first"
                + " repetition in this process, with JIT or kernel compilation). TTFT: prefill of the prompt plus picking"
                + " the first token. Host memory: ").append(report.hostMemory()).append(".\n");

        if (report.pricePerHour() != null) {
            md.append("\n### Cost per 1M tokens at ").append(BenchFormat.dollars(report.pricePerHour())).append("/h\n\n");
            List<List<String>> costRows = new ArrayList<>();
            for (BenchResult r : report.results()) {
                costRows.add(List.of(r.model().label(), r.target().label(),
                        BenchFormat.dollars(r.cost().inputPerMillion()), BenchFormat.dollars(r.cost().outputPerMillion())));
            }
            for (TokenCost.ApiPrice api : TokenCost.API_PRICES) {
                costRows.add(List.of(api.name(), "hosted API (list price)", BenchFormat.dollars(api.inputPerMillion()),
                        BenchFormat.dollars(api.outputPerMillion())));
            }
            table(md, List.of("Model", "Runs on", "$ / 1M input", "$ / 1M output"), costRows, 2);
            md.append("\nInput from the prefill throughput at the longest prompt, output from the decode throughput "
                    + "(medians), at full utilization.\n");
        }
        if (!report.skipped().isEmpty()) {
            md.append("\nNot measured:\n\n");
            report.skipped().forEach(x -> md.append("- ").append(x).append('\n'));
        }
        return md.toString();
    }

    private static String clampNote(PromptResult p) {
        return p.tokens() != p.requestedTokens() ? " (at " + p.tokens() + ")" : "";
    }

    /** Appends a Markdown table; the columns from {@code firstNumeric} on are right-aligned. */
    static void table(StringBuilder md, List<String> header, List<List<String>> rows, int firstNumeric) {
        md.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.size(); i++) {
            md.append(i >= firstNumeric ? "---:|" : "---|");
        }
        md.append('\n');
        for (List<String> row : rows) {
            md.append("| ").append(row.stream().map(c -> c.replace("|", "\\|")).collect(Collectors.joining(" | ")))
                    .append(" |\n");
        }
    }
}
