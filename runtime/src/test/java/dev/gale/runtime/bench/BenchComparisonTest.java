package dev.gale.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two hand-made results files: before (2-core Xeon) and after (16-core EPYC with a GPU). */
class BenchComparisonTest {
    static final Path BEFORE = resource("before.json");
    static final Path AFTER = resource("after.json");

    @TempDir
    Path dir;

    static Path resource(String name) {
        try {
            return Path.of(BenchComparisonTest.class.getResource("/bench/" + name).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void pairsByEveryKeyAndShowsRatios() throws Exception {
        BenchReport a = BenchJson.read(BEFORE);
        BenchReport b = BenchJson.read(AFTER);
        EnumSet<BenchComparison.MatchKey> all = EnumSet.allOf(BenchComparison.MatchKey.class);
        List<BenchComparison.Pair> pairs = BenchComparison.pair(a, b, all);
        assertEquals(2, pairs.size());
        assertEquals(List.of(1, 2), pairs.stream().map(p -> p.b().target().threads()).toList());

        String md = BenchComparison.render("before.json", a, "after.json", b, all);
        assertTrue(md.contains("| Model | Backend | Device | Threads | Load ms | TTFT@128 ms | TTFT@512 ms | "
                + "Prefill@128 tok/s | Prefill@512 tok/s | Decode tok/s | Host MiB | Device MiB |"), md);
        // 1 thread: load 20 → 10 ms, TTFT@128 320 → 160, TTFT@512 1400 → 700, prefill 400 → 800 and 366 → 731,
        // decode 100 → 125, host 90 → 45 MiB.
        assertTrue(md.contains("| stories260K F32 | cpu | Java CPU (amd64, 2 cores) → Java CPU (amd64, 16 cores) | 1 | "
                + "20.0 → 10.0 (0.50×) | 320 → 160 (0.50×) | 1400 → 700 (0.50×) | 400 → 800 (2.00×) | "
                + "366 → 731 (2.00×) | 100 → 125 (1.25×) | 90.0 → 45.0 (0.50×) | n/a |"), md);
        assertTrue(md.contains("| 2 | 18.0 → 9.00 (0.50×) |") && md.contains("| 180 → 360 (2.00×) |"), md);
        assertTrue(md.contains("Only in A: llama-3.2-1b-q8_0 on cpu, 2 threads"), md);
        assertTrue(md.contains("Only in B: stories260K F32 on tornadovm:0 NVIDIA H100 80GB HBM3"), md);
        assertTrue(md.contains("A: before.json (2026-11-20T10:00:00Z, Intel(R) Xeon(R) Processor @ 2.50GHz, 2 cores"), md);
    }

    @Test
    void fewerKeysCompareTwoBackends() throws Exception {
        BenchReport a = BenchJson.read(BEFORE);
        BenchReport after = BenchJson.read(AFTER);
        BenchReport gpuOnly = new BenchReport(after.timestamp(), after.gale(), after.machine(), after.settings(), null,
                after.hostMemory(), after.results().subList(2, 3), List.of());
        String md = BenchComparison.render("cpu", a, "gpu", gpuOnly, EnumSet.of(BenchComparison.MatchKey.MODEL));
        assertTrue(md.contains("Results paired by model;"), md);
        assertTrue(md.contains("| stories260K F32 | cpu → tornadovm | Java CPU (amd64, 2 cores) → NVIDIA H100 80GB HBM3 "
                + "| 1 → - |"), md);
        assertTrue(md.contains("| 100 → 900 (9.00×) |"), md);
        assertTrue(md.contains("Only in A: stories260K F32 on cpu, 2 threads"), md);
    }

    @Test
    void aFileThatIsNotAResultIsAClearError() throws Exception {
        Path notJson = Files.writeString(dir.resolve("notes.json"), "this is not json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchJson.read(notJson));
        assertTrue(e.getMessage().startsWith(notJson + " is not a 'gale bench' result: "), e.getMessage());
        Path other = Files.writeString(dir.resolve("other.json"), "{\"name\": \"x\"}");
        e = assertThrows(IllegalArgumentException.class, () -> BenchJson.read(other));
        assertTrue(e.getMessage().startsWith(other + " is not a 'gale bench' result"), e.getMessage());
    }
}
