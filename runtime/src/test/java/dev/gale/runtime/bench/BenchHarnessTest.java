package dev.gale.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gale.runtime.SharedData;
import dev.gale.runtime.cpu.CpuBackendProvider;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness on real models with tiny settings: what it measures and the files it writes. No timing assertions. */
class BenchHarnessTest {
    private static final String STORIES = "stories260K.gguf";

    @TempDir
    Path dir;

    private static List<BenchTarget> cpuTargets(List<Integer> threads) {
        List<String> skipped = new ArrayList<>();
        List<BenchTarget> targets = BenchTarget.all(List.of(new CpuBackendProvider()), threads, skipped);
        assertTrue(skipped.isEmpty(), skipped.toString());
        return targets;
    }

    @Test
    void storiesWritesJsonCsvMarkdownAndCharts() throws Exception {
        BenchSettings settings = new BenchSettings(List.of(16), 8, 1, 1, 7);
        List<String> steps = new ArrayList<>();
        BenchReport report = new BenchRunner(settings, HostMemory.detect(), steps::add)
                .run(List.of(SharedData.model(STORIES)), cpuTargets(List.of(1, 2)), List.of(), 2.0);
        assertEquals(BenchRunner.steps(settings, 1, 2), steps.size(), "one progress step per phase: " + steps);
        assertEquals(List.of(), report.skipped());

        List<Path> files = BenchFiles.write(report, dir, System.err);
        assertEquals(Set.of("results.json", "results.csv", "results.md", "decode.png", "prefill.png"),
                files.stream().map(f -> f.getFileName().toString()).collect(Collectors.toSet()));

        JsonNode json = new ObjectMapper().readTree(dir.resolve(BenchFiles.JSON).toFile());
        JsonNode machine = json.get("machine");
        assertFalse(machine.get("cpu").asText().isBlank());
        assertEquals(Runtime.getRuntime().availableProcessors(), machine.get("cores").asInt());
        assertTrue(machine.get("memoryBytes").asLong() > 0);
        assertTrue(machine.get("os").asText().contains(System.getProperty("os.name")));
        assertEquals(Runtime.version().toString(), machine.get("jdk").asText());
        assertTrue(machine.has("tornadovm"));
        assertEquals(2.0, json.get("pricePerHour").asDouble());
        assertEquals("[16]", json.get("settings").get("promptTokens").toString());
        JsonNode results = json.get("results");
        assertEquals(2, results.size());
        for (int i = 0; i < 2; i++) {
            JsonNode r = results.get(i);
            assertEquals(STORIES, r.get("model").get("file").asText());
            assertEquals("F32", r.get("model").get("weightType").asText());
            assertEquals("llama", r.get("model").get("architecture").asText());
            assertEquals(292_800, r.get("model").get("parameters").asLong());
            assertEquals("cpu", r.get("target").get("backend").asText());
            assertEquals(i + 1, r.get("target").get("threads").asInt());
            assertTrue(r.get("coldLoadMs").asDouble() > 0);
            assertOrdered(r.get("loadMs"));
            JsonNode prompt = r.get("prompts").get(0);
            assertEquals(16, prompt.get("tokens").asInt());
            assertOrdered(prompt.get("ttftMs"));
            assertOrdered(prompt.get("prefillTokensPerSecond"));
            assertEquals(8, r.get("decodeTokens").asInt());
            assertEquals(16, r.get("decodeStart").asInt());
            assertOrdered(r.get("decodeTokensPerSecond"));
            assertTrue(r.get("peakHostBytes").get("median").asDouble() >= r.get("model").get("fileBytes").asLong(),
                    "host memory counts the mapped file");
            assertTrue(r.get("peakDeviceBytes").isNull(), "the CPU backend reports no device memory");
            JsonNode cost = r.get("cost");
            assertEquals(TokenCost.perMillion(2.0, prompt.get("prefillTokensPerSecond").get("median").asDouble()),
                    cost.get("inputPerMillion").asDouble(), 1e-12);
            assertEquals(TokenCost.perMillion(2.0, r.get("decodeTokensPerSecond").get("median").asDouble()),
                    cost.get("outputPerMillion").asDouble(), 1e-12);
        }
        assertEquals(report, BenchJson.read(dir.resolve(BenchFiles.JSON)), "JSON reads back to the same report");

        List<String> csv = Files.readAllLines(dir.resolve(BenchFiles.CSV));
        assertEquals(BenchCsv.HEADER, csv.getFirst());
        List<List<String>> rows = csv.stream().skip(1).map(BenchHarnessTest::csvFields).toList();
        int columns = BenchCsv.HEADER.split(",").length;
        rows.forEach(r -> assertEquals(columns, r.size(), r.toString()));
        assertEquals(List.of("cold_load", "load", "ttft", "prefill", "decode", "peak_host_memory", "cost_input",
                        "cost_output"),
                rows.stream().filter(r -> r.get(5).equals("1")).map(r -> r.get(6)).toList());
        List<String> decodeRow = rows.stream().filter(r -> r.get(5).equals("2") && r.get(6).equals("decode"))
                .findFirst().orElseThrow();
        assertEquals(new CpuBackendProvider().devices().getFirst().name(), decodeRow.get(4));
        assertEquals(results.get(1).get("decodeTokensPerSecond").get("median").asDouble(),
                Double.parseDouble(decodeRow.get(9)));

        String md = Files.readString(dir.resolve(BenchFiles.MARKDOWN));
        assertEquals(BenchMarkdown.render(report), md);
        assertTrue(md.contains("| Model | Type | Backend | Device | Threads | Load s (cold) | TTFT@16 ms | "
                + "Prefill@16 tok/s | Decode tok/s | Host MiB | Device MiB |"), md);
        assertTrue(md.contains("| stories260K | F32 | cpu | "), md);
        assertTrue(md.contains("### Cost per 1M tokens at $2.00/h"), md);
        assertTrue(md.contains("| GPT-4o | hosted API (list price) | $2.50 | $10.00 |"), md);
        assertTrue(md.contains("| Claude 3.5 Sonnet | hosted API (list price) | $3.00 | $15.00 |"), md);

        for (String png : List.of("decode.png", "prefill.png")) {
            BufferedImage image = ImageIO.read(dir.resolve(png).toFile());
            assertNotNull(image, png + " is a readable PNG");
            assertTrue(image.getWidth() >= 800 && image.getHeight() >= 200, png);
        }
    }

    @Test
    void promptsAndDecodeAreFittedToTheModelsContext() throws Exception {
        // tiny-llama has a 256-token context: a 300-token prompt runs as 256 tokens, and 300 decode tokens as 255
        // started early enough to fit.
        BenchSettings settings = new BenchSettings(List.of(300, 8), 300, 0, 1, 1);
        BenchReport report = new BenchRunner(settings, HostMemory.detect(), step -> { })
                .run(List.of(SharedData.model("tiny/tiny-llama-q8_0.gguf")), cpuTargets(List.of(1)), List.of(), null);
        BenchResult r = report.results().getFirst();
        assertEquals(List.of(8, 300), r.prompts().stream().map(PromptResult::requestedTokens).toList());
        assertEquals(List.of(8, 256), r.prompts().stream().map(PromptResult::tokens).toList());
        assertEquals(255, r.decodeTokens());
        assertEquals(1, r.decodeStart());
        assertEquals(256, r.contextLength());
        assertEquals("Q8_0", r.model().weightType());
        assertNull(r.cost());
        assertEquals(r.loadMs().median(), r.coldLoadMs(), "without warm-up the cold load is the measured one");
        String md = BenchMarkdown.render(report);
        assertTrue(md.contains(" (at 256)") && md.contains("(255 tokens)"), md);
        assertFalse(md.contains("Cost per 1M"), md);
    }

    @Test
    void aModelThatCannotLoadIsSkippedWithTheReason() throws Exception {
        Path notAModel = Files.writeString(dir.resolve("broken.gguf"), "not a gguf file");
        BenchReport report = new BenchRunner(new BenchSettings(List.of(4), 2, 0, 1, 1), HostMemory.detect(),
                step -> { }).run(List.of(notAModel), cpuTargets(List.of(1)), List.of("backend x: not here"), null);
        assertTrue(report.results().isEmpty());
        assertEquals(2, report.skipped().size());
        assertEquals("backend x: not here", report.skipped().getFirst());
        assertTrue(report.skipped().get(1).startsWith("broken.gguf on cpu, 1 thread: "), report.skipped().get(1));
    }

    private static void assertOrdered(JsonNode stats) {
        double min = stats.get("min").asDouble();
        double median = stats.get("median").asDouble();
        double max = stats.get("max").asDouble();
        assertTrue(min > 0 && min <= median && median <= max, stats.toString());
    }

    /** Splits a CSV line, honouring double-quoted fields. */
    private static List<String> csvFields(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                if (quoted && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    f.append('"');
                    i++;
                } else {
                    quoted = !quoted;
                }
            } else if (c == ',' && !quoted) {
                fields.add(f.toString());
                f.setLength(0);
            } else {
                f.append(c);
            }
        }
        fields.add(f.toString());
        return fields;
    }
}
