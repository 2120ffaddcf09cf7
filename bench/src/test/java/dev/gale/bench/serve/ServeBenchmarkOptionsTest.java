package dev.gale.bench.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ServeBenchmarkOptionsTest {
    @Test
    void readsEveryOption() {
        ServeBenchmark.Options o = ServeBenchmark.Options.parse(new String[] {"--model", "m.gguf", "--threads", "2",
                "--tokens", "32", "--streams", "1,16", "--system-tokens", "0", "--repeat", "1"});
        assertEquals(Path.of("m.gguf"), o.model());
        assertEquals(2, o.threads());
        assertEquals(32, o.tokens());
        assertArrayEquals(new int[] {1, 16}, o.streams());
        assertEquals(0, o.systemTokens());
        assertEquals(1, o.repeat());
    }

    @Test
    void badValuesNameTheOption() {
        assertEquals("--streams must be at least 1 (got 0)", message("--model", "m.gguf", "--streams", "4,0"));
        assertEquals("--streams: 'x' is not a whole number", message("--model", "m.gguf", "--streams", "x"));
        assertEquals("--tokens must be at least 2 (got 1)", message("--model", "m.gguf", "--tokens", "1"));
        assertEquals("--repeat needs a value", message("--model", "m.gguf", "--repeat"));
        assertEquals("--model FILE is required", message("--tokens", "8"));
    }

    private static String message(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> ServeBenchmark.Options.parse(args)).getMessage();
    }
}
