package dev.gale.tornado;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Skips a test, saying why, when TornadoVM cannot run here. */
final class TornadoAvailability {
    private TornadoAvailability() {}

    static TornadoBackendProvider require() {
        TornadoBackendProvider p = new TornadoBackendProvider();
        String why = p.unavailableReason();
        assumeTrue(why == null, () -> "TornadoVM not available: " + why);
        return p;
    }

    /** The device the tests run on: -Dgale.tornado.device (default 0). */
    static int device() {
        return Integer.getInteger("gale.tornado.device", 0);
    }
}
