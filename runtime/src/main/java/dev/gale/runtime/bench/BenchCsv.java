package dev.gale.runtime.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link BenchReport} as CSV in long form: one row per result and figure, with its median, min and max, so that
 * the columns stay the same whatever the prompt lengths.
 */
public final class BenchCsv {
    static final String HEADER = "model,weight_type,backend,device_index,device,threads,metric,tokens,unit,median,min,max";

    private BenchCsv() {}

    public static void write(BenchReport report, Path file) throws IOException {
        Files.write(file, lines(report));
    }

    static List<String> lines(BenchReport report) {
        List<String> lines = new ArrayList<>();
        lines.add(HEADER);
        for (BenchResult r : report.results()) {
            String key = String.join(",", field(r.model().file()), r.model().weightType(), field(r.target().backend()),
                    Integer.toString(r.target().deviceIndex()), field(r.target().device()),
                    Integer.toString(r.target().threads()));
            lines.add(row(key, "cold_load", "", "ms", Stats.of(r.coldLoadMs())));
            lines.add(row(key, "load", "", "ms", r.loadMs()));
            for (PromptResult p : r.prompts()) {
                lines.add(row(key, "ttft", Integer.toString(p.tokens()), "ms", p.ttftMs()));
                lines.add(row(key, "prefill", Integer.toString(p.tokens()), "tok/s", p.prefillTokensPerSecond()));
            }
            lines.add(row(key, "decode", Integer.toString(r.decodeTokens()), "tok/s", r.decodeTokensPerSecond()));
            lines.add(row(key, "peak_host_memory", "", "bytes", r.peakHostBytes()));
            if (r.peakDeviceBytes() != null) {
                lines.add(row(key, "peak_device_memory", "", "bytes", r.peakDeviceBytes()));
            }
            if (r.cost() != null) {
                lines.add(row(key, "cost_input", Integer.toString(r.longestPrompt().tokens()), "usd_per_1m_tokens",
                        Stats.of(r.cost().inputPerMillion())));
                lines.add(row(key, "cost_output", Integer.toString(r.decodeTokens()), "usd_per_1m_tokens",
                        Stats.of(r.cost().outputPerMillion())));
            }
        }
        return lines;
    }

    private static String row(String key, String metric, String tokens, String unit, Stats s) {
        return key + "," + metric + "," + tokens + "," + unit + "," + number(s.median()) + "," + number(s.min()) + ","
                + number(s.max());
    }

    /** Whole numbers (bytes) without a fraction or exponent; others as Java writes doubles. */
    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** Quotes a text field when it holds a comma, quote or line break. */
    static String field(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
            return "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }
}
