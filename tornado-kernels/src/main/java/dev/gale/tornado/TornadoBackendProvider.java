package dev.gale.tornado;

import dev.gale.model.Model;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.BackendProvider;
import dev.gale.runtime.backend.DeviceInfo;
import dev.gale.runtime.backend.InferenceEngine;
import java.util.List;
import java.util.Map;

/**
 * The TornadoVM backend: GPUs and other OpenCL/PTX devices. This class loads without TornadoVM (only
 * {@link TornadoDevices} and what it leads to touch TornadoVM's classes), so that a missing TornadoVM becomes
 * {@link #unavailableReason()} rather than a crash.
 */
public final class TornadoBackendProvider implements BackendProvider {
    public static final String NAME = "tornadovm";
    private static final String HOW_TO = "install TornadoVM (JDK 25 build), set TORNADO_SDK to it and launch with "
            + "scripts/gale, which adds TornadoVM's JVM options (see README, 'Running on a GPU')";
    private static final String NO_DRIVER = "TornadoVM's PTX backend needs the NVIDIA driver (libcuda.so.1), which is "
            + "not installed: leave PTX out (scripts/gale does, and TORNADO_BACKENDS=opencl picks the backends) or use "
            + "an SDK built for OpenCL only";

    /**
     * TornadoVM settings that it reads once, when its runtime starts or builds its first task graph, so they are
     * set before the backend touches it (unless the user set them):
     * <ul>
     *   <li>the bytecode buffer of each graph (4 KiB by default, too small for a whole model's tasks);</li>
     *   <li>the bytes of buffers it allocates per device at most (4 GB by default, whatever the device has): Gale
     *       checks the device's own memory before it loads a model ({@code MemoryPlan}), so the cap is lifted;</li>
     *   <li>the length of each event wait-list of its bytecode interpreter (32768 by default): the interpreter
     *       refills every list with -1 at every execution, which for a decode step's few hundred lists was 30-odd
     *       MB of memory writes per token, the largest part of the host time per token (a JFR profile of a 1B
     *       model on an H200 spent most of the decode thread's samples there; on PoCL a tiny model's step went
     *       from 3.9 to 1.9 ms). Gale's graphs track no dependencies (TornadoVM's {@code tornado.vm.deps} and
     *       intra-plan concurrency are off), so the lists stay empty; with dependencies on, a list longer than
     *       this stops TornadoVM with "event list is too small".</li>
     * </ul>
     */
    private static final Map<String, String> TORNADO_SETTINGS = Map.of(
            "tornado.tvm.maxbytecodesize", String.valueOf(1 << 20),
            "tornado.device.memory", "1024GB",
            "tornado.max.events", "512");

    private volatile String unavailable;
    private volatile boolean checked;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String unavailableReason() {
        if (!checked) {
            unavailable = probe();
            checked = true;
        }
        return unavailable;
    }

    private static String probe() {
        TORNADO_SETTINGS.forEach((key, value) -> {
            if (System.getProperty(key) == null) {
                System.setProperty(key, value);
            }
        });
        try {
            // not initialized here: its initializer starts the runtime, whose failures are reported below
            Class.forName("uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider", false,
                    TornadoBackendProvider.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return "TornadoVM's classes are not on the module path: " + HOW_TO;
        }
        try {
            if (TornadoDevices.count() == 0) {
                return "TornadoVM found no device: install a GPU driver with OpenCL support (NVIDIA's also serves the "
                        + "PTX backend), or PoCL for CPUs";
            }
            return null;
        } catch (Throwable e) {
            return "TornadoVM's runtime did not start (" + e + "): " + (lacksLibcuda(e) ? NO_DRIVER : HOW_TO);
        }
    }

    /**
     * True when the PTX backend's native library failed to find libcuda: {@code e} or a cause says so (after the
     * first failure, the runtime's class reports "Could not initialize", with the first error's text as a cause).
     */
    private static boolean lacksLibcuda(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("libcuda.so")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public List<DeviceInfo> devices() {
        return unavailableReason() == null ? TornadoDevices.describe() : List.of();
    }

    @Override
    public InferenceEngine load(Model model, BackendOptions options) {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException("backend 'tornadovm' is not available: " + why);
        }
        return new TornadoInferenceEngine(model, options);
    }
}
