package dev.gale.runtime.bench;

import dev.gale.runtime.backend.BackendProvider;
import dev.gale.runtime.backend.DeviceInfo;
import dev.gale.runtime.cpu.CpuBackendProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * One place a model is run: a backend, one of its devices and, for the CPU backend, a thread count.
 *
 * @param backend     backend name
 * @param deviceIndex index of the device within the backend
 * @param device      device name
 * @param deviceKind  CPU, GPU, ...
 * @param threads     CPU worker threads, or 0 when the backend does not take a thread count
 */
public record BenchTarget(String backend, int deviceIndex, String device, String deviceKind, int threads) {

    public static BenchTarget of(DeviceInfo device, int threads) {
        return new BenchTarget(device.backend(), device.index(), device.name(), device.kind(), threads);
    }

    /**
     * Every device of every available backend; the CPU backend once per thread count. Backends that cannot run here
     * are added to {@code skipped} with the reason.
     */
    public static List<BenchTarget> all(List<BackendProvider> providers, List<Integer> cpuThreads,
                                        List<String> skipped) {
        List<BenchTarget> targets = new ArrayList<>();
        for (BackendProvider p : providers) {
            String why = p.unavailableReason();
            if (why != null) {
                skipped.add("backend " + p.name() + ": " + why);
                continue;
            }
            for (DeviceInfo d : p.devices()) {
                if (p.name().equals(CpuBackendProvider.NAME)) {
                    cpuThreads.forEach(t -> targets.add(of(d, t)));
                } else {
                    targets.add(of(d, 0));
                }
            }
        }
        return targets;
    }

    /** Short label for tables and charts, e.g. {@code cpu, 2 threads} or {@code tornadovm:0 NVIDIA H100}. */
    public String label() {
        if (threads > 0) {
            return backend + ", " + threads + (threads == 1 ? " thread" : " threads");
        }
        return backend + ":" + deviceIndex + " " + device;
    }
}
