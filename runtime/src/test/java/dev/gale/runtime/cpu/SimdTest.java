package dev.gale.runtime.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class SimdTest {
    /**
     * The tests run as the launchers run Gale, with objects on 64-byte boundaries: the offset at which a float
     * array's data is aligned must then be found (past a 16-byte array header, or 12 with compact object headers),
     * or the batched kernels silently lose their aligned loads.
     */
    @Test
    void findsWhereAFloatArraysDataIsAligned() {
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        int alignment = Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue());
        if (alignment % 64 == 0) {
            boolean compact = Boolean.parseBoolean(vm.getVMOption("UseCompactObjectHeaders").getValue());
            assertEquals(compact ? 13 : 12, Simd.ALIGNED_FLOATS);
        } else {
            assertEquals(0, Simd.ALIGNED_FLOATS);
        }
        assertTrue(alignment % 64 == 0, "the tests are meant to run with -XX:ObjectAlignmentInBytes=64 (pom.xml)");
    }
}
