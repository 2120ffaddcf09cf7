package dev.gale.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.runtime.SharedData;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gale bench} as a user runs it. */
class BenchCliTest {
    @TempDir
    Path dir;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(BenchCliTest.class.getResource("/bench/" + name).toURI());
    }

    @Test
    void benchPrintsTheTableAndWritesTheFiles() throws Exception {
        Path out = dir.resolve("run");
        CliProcess.Result r = CliProcess.run("bench", "--model", SharedData.model("stories260K.gguf").toString(),
                "--backend", "cpu", "--threads", "1", "--prompt-tokens", "16", "--decode-tokens", "8", "--reps", "1",
                "--warmup", "0", "--price-per-hour", "1.5", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().startsWith("## Gale benchmark, "), r.stdout());
        assertTrue(r.stdout().contains("| stories260K | F32 | cpu | "), r.stdout());
        assertTrue(r.stdout().contains("### Cost per 1M tokens at $1.50/h"), r.stdout());
        assertTrue(r.stdout().contains("| GPT-4o | hosted API (list price) | $2.50 | $10.00 |"), r.stdout());
        for (String f : List.of("results.json", "results.csv", "results.md", "decode.png", "prefill.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertEquals(r.stdout(), Files.readString(out.resolve("results.md")));
        assertTrue(r.stderr().contains("wrote " + out.resolve("results.json")), r.stderr());
    }

    @Test
    void benchSynthesizesRealShapes() throws Exception {
        CliProcess.Result r = CliProcess.run("bench", "--shape", "tiny", "--type", "Q8_0,Q4_0", "--vocab",
                SharedData.model("stories260K.gguf").toString(), "--backend", "cpu", "--threads", "1",
                "--prompt-tokens", "8", "--decode-tokens", "4", "--reps", "1", "--warmup", "0",
                "--out", dir.resolve("synth").toString());
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().contains("| tiny-Q8_0 | Q8_0 | cpu | "), r.stdout());
        assertTrue(r.stdout().contains("| tiny-Q4_0 | Q4_0 | cpu | "), r.stdout());
        assertTrue(r.stderr().contains("synthesizing tiny Q4_0..."), r.stderr());
    }

    @Test
    void compareTwoResultFiles() throws Exception {
        CliProcess.Result r = CliProcess.run("bench", "--compare", resource("before.json").toString(),
                resource("after.json").toString());
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().startsWith("## Comparison: B / A"), r.stdout());
        assertTrue(r.stdout().contains("| 100 → 125 (1.25×) |"), r.stdout());

        r = CliProcess.run("bench", "--compare", resource("before.json").toString(), resource("after.json").toString(),
                "--match", "model");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().contains("Results paired by model;"), r.stdout());
    }

    @Test
    void badInputIsOneClearLine() throws Exception {
        CliProcess.Result r = CliProcess.run("bench");
        assertEquals(1, r.exitCode());
        assertEquals("gale: error: give at least one --model FILE or --shape NAME (or --compare A.json B.json)",
                r.stderr().strip());

        r = CliProcess.run("bench", "--shape", "llama-3.2-1b");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().startsWith("gale: error: --shape needs --vocab FILE"), r.stderr());

        r = CliProcess.run("bench", "--shape", "llama-9b", "--vocab", "v.gguf");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().startsWith("gale: error: unknown shape 'llama-9b' (known: llama-3.2-1b"), r.stderr());

        r = CliProcess.run("bench", "--shape", "tiny", "--type", "Q3_K", "--vocab", "v.gguf");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().startsWith("gale: error: --type Q3_K is not supported (supported: "), r.stderr());

        Path notes = Files.writeString(dir.resolve("notes.json"), "[1, 2");
        r = CliProcess.run("bench", "--compare", notes.toString(), resource("after.json").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().startsWith("gale: error: " + notes + " is not a 'gale bench' result: "), r.stderr());
        assertEquals(1, r.stderr().strip().lines().count(), r.stderr());

        r = CliProcess.run("bench", "--model", SharedData.model("stories260K.gguf").toString(), "--backend", "nosuch");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().startsWith("gale: error: unknown backend 'nosuch'"), r.stderr());

        r = CliProcess.run("bench", "--model", SharedData.model("stories260K.gguf").toString(), "--threads", "0");
        assertEquals(1, r.exitCode());
        assertEquals("gale: error: --threads must be >= 1, got 0", r.stderr().strip());

        r = CliProcess.run("bench", "--compare", "a.json", "b.json", "--match", "colour");
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("--match"), r.stderr());
    }
}
