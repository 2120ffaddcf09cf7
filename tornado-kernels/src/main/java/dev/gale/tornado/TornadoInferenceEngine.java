package dev.gale.tornado;

import dev.gale.model.Model;
import dev.gale.model.config.ModelConfig;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.backend.TokenWork;
import dev.gale.tornado.plan.DecodePlan;
import dev.gale.tornado.plan.LaunchGeometry;
import dev.gale.tornado.plan.MemoryPlan;
import java.util.Optional;
import java.util.OptionalLong;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * A model resident on one TornadoVM device: weights, a KV cache of a fixed number of positions and the compiled
 * decode plan. The device holds one KV cache, so one session is open at a time.
 */
final class TornadoInferenceEngine implements InferenceEngine {
    private final ModelConfig config;
    private final TornadoDevice device;
    private final int capacity;
    private final DecodePlan plan;
    private TornadoSession open;

    TornadoInferenceEngine(Model model, BackendOptions options) {
        this.config = model.config();
        this.device = TornadoDevices.get(options.device());
        int ctx = options.contextLength() > 0 ? options.contextLength()
                : Math.min(config.contextLength(), BackendOptions.DEFAULT_CONTEXT);
        if (ctx > config.contextLength()) {
            throw new IllegalArgumentException("context length " + ctx + " exceeds the model's trained context "
                    + config.contextLength());
        }
        this.capacity = ctx;
        long[] maxGroup = device.getDeviceMaxWorkgroupDimensions();
        LaunchGeometry geometry = LaunchGeometry.forDevice(TornadoDevices.isGpu(device),
                maxGroup != null && maxGroup.length > 0 ? maxGroup[0] : 1);
        MemoryPlan memory = MemoryPlan.of(config, model.weights(), capacity, geometry.attentionSplits());
        memory.requireFits(deviceName(), device.getMaxGlobalMemory(), device.getMaxAllocMemory());
        this.plan = new DecodePlan(config, model.weights(), capacity, device, geometry);
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public String backendName() {
        return TornadoBackendProvider.NAME;
    }

    @Override
    public String deviceName() {
        return TornadoDevices.name(device) + " (" + device.getTornadoVMBackend() + ")";
    }

    @Override
    public Optional<TokenWork> workPerToken() {
        return Optional.of(plan.stepWork(false));
    }

    @Override
    public OptionalLong deviceMemoryBytes() {
        return OptionalLong.of(plan.deviceBytes());
    }

    DecodePlan plan() {
        return plan;
    }

    @Override
    public synchronized InferenceSession newSession(int contextLength) {
        if (open != null) {
            throw new IllegalStateException("the tornadovm backend runs one session at a time; close the open one first");
        }
        int ctx = contextLength > 0 ? contextLength : capacity;
        if (ctx > capacity) {
            throw new IllegalArgumentException("context length " + ctx + " exceeds the KV cache on the device ("
                    + capacity + " positions); load the model with a larger --ctx-size");
        }
        open = new TornadoSession(this, ctx);
        return open;
    }

    synchronized void closed(TornadoSession session) {
        if (open == session) {
            open = null;
        }
    }

    @Override
    public void close() {
        plan.close();
    }
}
