package dev.gale.runtime.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KvBudgetTest {

    @Test
    void parsesMemoryAndPositions() {
        assertEquals(new KvBudget(512L << 20, 0), KvBudget.parse("512"));
        assertEquals(new KvBudget(512L << 20, 0), KvBudget.parse("512MiB"));
        assertEquals(new KvBudget(2L << 30, 0), KvBudget.parse("2GiB"));
        assertEquals(new KvBudget(2L << 30, 0), KvBudget.parse(" 2g "));
        assertEquals(new KvBudget(0, 8192), KvBudget.parse("8192tok"));
        assertEquals(new KvBudget(0, 100), KvBudget.parse("100 tokens"));
    }

    @Test
    void convertsToBlocks() {
        assertEquals(512, KvBudget.parse("8192tok").blocks(1000, 16));
        assertEquals(64, KvBudget.parse("1").blocks(1024, 16), "1 MiB of 1 KiB positions is 1024 positions");
        assertEquals(1, KvBudget.parse("3tok").blocks(4, 16), "at least one block");
    }

    @Test
    void rejectsNonsense() {
        for (String bad : new String[] {"", "-5", "0", "12 apples", "1.5GiB", "99999999999999999999"}) {
            assertThrows(IllegalArgumentException.class, () -> KvBudget.parse(bad), bad);
        }
    }
}
