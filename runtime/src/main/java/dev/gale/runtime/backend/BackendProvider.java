package dev.gale.runtime.backend;

import dev.gale.model.Model;
import java.util.List;

/**
 * A compute backend, discovered at run time with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/dev.gale.runtime.backend.BackendProvider}).
 */
public interface BackendProvider {

    /** Short name used on the command line, e.g. {@code cpu} or {@code tornadovm}. */
    String name();

    /** Null when the backend can run here; otherwise a message saying why not and how to fix it. */
    String unavailableReason();

    default boolean isAvailable() {
        return unavailableReason() == null;
    }

    /** The devices this backend can run on. */
    List<DeviceInfo> devices();

    /** Prepares a model for inference on this backend. */
    InferenceEngine load(Model model, BackendOptions options);
}
