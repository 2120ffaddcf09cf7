package dev.gale.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void medianMinMax() {
        assertEquals(new Stats(3, 1, 9), Stats.of(9, 1, 3));
        assertEquals(new Stats(2.5, 1, 9), Stats.of(9, 1, 2, 3));
        assertEquals(new Stats(4, 4, 4), Stats.of(4));
        assertThrows(IllegalArgumentException.class, Stats::of);
    }

    @Test
    void settingsSortPromptLengthsAndRejectNonsense() {
        assertEquals(List.of(16, 128, 512), new BenchSettings(List.of(512, 16, 128, 16), 8, 1, 1, 0).promptTokens());
        assertThrows(IllegalArgumentException.class, () -> new BenchSettings(List.of(), 8, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new BenchSettings(List.of(0), 8, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new BenchSettings(List.of(8), 0, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new BenchSettings(List.of(8), 8, -1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new BenchSettings(List.of(8), 8, 1, 0, 0));
    }
}
