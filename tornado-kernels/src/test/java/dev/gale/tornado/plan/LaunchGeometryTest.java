package dev.gale.tornado.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Work-group sizes per device, and the properties that override them. */
class LaunchGeometryTest {

    @Test
    void gpusTakeWideGroupsCpusNarrowOnesWithinTheDeviceLimit() {
        assertEquals(new LaunchGeometry(128, 128, 256, 128, 16), LaunchGeometry.forDevice(true, 1024));
        assertEquals(new LaunchGeometry(64, 64, 64, 64, 16), LaunchGeometry.forDevice(true, 100));
        assertEquals(new LaunchGeometry(16, 16, 16, 16, 1), LaunchGeometry.forDevice(false, 4096));
    }

    @Test
    void aPropertyChoosesAPowerOfTwoWithinTheCap() {
        String p = "gale.test.group";
        try {
            assertEquals(128, LaunchGeometry.chosen(p, 128, 256));
            System.setProperty(p, " 32");
            assertEquals(32, LaunchGeometry.chosen(p, 128, 256));
            for (String bad : new String[] {"48", "0", "512", "-4", "many"}) {
                System.setProperty(p, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> LaunchGeometry.chosen(p, 128, 256));
                assertEquals("-D" + p + " must be a power of two from 1 to 256 on this device, not '" + bad + "'",
                        e.getMessage());
            }
        } finally {
            System.clearProperty(p);
        }
    }

    @Test
    void attentionSplitsAreSixteenOnGpusAndOneOnCpuDevicesUnlessAsked() {
        String p = LaunchGeometry.ATTENTION_SPLITS;
        try {
            System.clearProperty(p);
            assertEquals(16, LaunchGeometry.forDevice(true, 1024).attentionSplits());
            assertEquals(1, LaunchGeometry.forDevice(false, 1024).attentionSplits());
            System.setProperty(p, "3 ");
            assertEquals(3, LaunchGeometry.forDevice(true, 1024).attentionSplits());
            assertEquals(3, LaunchGeometry.forDevice(false, 1024).attentionSplits());
            for (String bad : new String[] {"0", "257", "two"}) {
                System.setProperty(p, bad);
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.forDevice(true, 1024));
                assertEquals("-D" + p + " must be a whole number from 1 to 256, not '" + bad + "'", e.getMessage());
            }
        } finally {
            System.clearProperty(p);
        }
    }
}
