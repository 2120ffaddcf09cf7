package dev.gale.runtime.cli;

import dev.gale.runtime.backend.BackendOptions;
import picocli.CommandLine.Option;

/** Where and how a command runs the model: backend, device, threads, context size. */
final class EngineOptions {
    @Option(names = {"-c", "--ctx-size"}, defaultValue = "0", description = "Context length (default: the model's, at most 4096).")
    int ctxSize;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (default: all cores).")
    int threads;

    @Option(names = "--backend", defaultValue = "cpu", description = "Backend: cpu or tornadovm (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--device", defaultValue = "0", description = "Device index for the backend (see 'gale devices').")
    int device;

    BackendOptions backendOptions() {
        if (threads < 0) {
            throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        }
        if (ctxSize < 0) {
            throw new IllegalArgumentException("--ctx-size must be >= 0, got " + ctxSize);
        }
        return new BackendOptions(threads, device, ctxSize);
    }
}
