package dev.gale.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuBenchmarkOptionsTest {
    @Test
    void readsEveryOption() {
        CpuBenchmark.Options o = CpuBenchmark.Options.parse(new String[] {"--threads", "2", "--decode", "16",
                "--prefill", "512", "--repeats", "5", "--no-header", "a.gguf", "b.gguf"});
        assertEquals(new CpuBenchmark.Options(2, 16, 512, 5, false, List.of(Path.of("a.gguf"), Path.of("b.gguf"))), o);
    }

    @Test
    void badCountsNameTheOption() {
        assertEquals("--prefill must be at least 1 (got 0)", message("--prefill", "0", "m.gguf"));
        assertEquals("--threads: 'two' is not a whole number", message("--threads", "two", "m.gguf"));
        assertEquals("--decode needs a value", message("m.gguf", "--decode"));
        assertEquals("unknown option --fast", message("--fast", "m.gguf"));
    }

    private static String message(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> CpuBenchmark.Options.parse(args)).getMessage();
    }
}
