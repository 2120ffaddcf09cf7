package dev.gale.runtime.cpu;

import dev.gale.model.Model;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.BackendProvider;
import dev.gale.runtime.backend.DeviceInfo;
import dev.gale.runtime.backend.InferenceEngine;
import java.util.List;

/** The pure-Java CPU backend: always available. */
public final class CpuBackendProvider implements BackendProvider {
    public static final String NAME = "cpu";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public List<DeviceInfo> devices() {
        int cores = Runtime.getRuntime().availableProcessors();
        String arch = System.getProperty("os.arch");
        return List.of(new DeviceInfo(0, NAME, "Java CPU (" + arch + ", " + cores + " cores)", "CPU",
                Runtime.getRuntime().maxMemory(), "Vector API, Java " + Runtime.version()));
    }

    @Override
    public InferenceEngine load(Model model, BackendOptions options) {
        return new CpuInferenceEngine(model, options);
    }
}
