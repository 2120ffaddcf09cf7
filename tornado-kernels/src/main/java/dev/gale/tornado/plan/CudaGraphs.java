package dev.gale.tornado.plan;

import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;

/**
 * Whether a decode plan runs its per-token task graph as a CUDA graph. TornadoVM then captures the graph's kernel
 * launches and per-step copies on the device's stream during the first execution, and from then on launches the
 * captured graph once per token instead of each kernel from the host. Only TornadoVM's PTX and CUDA backends can
 * (elsewhere the capture fails), so it is used on their devices, unless {@code -Dgale.tornado.cudaGraphs=false}.
 */
public final class CudaGraphs {
    /** The switch: {@code true} (the default) or {@code false}. */
    public static final String PROPERTY = "gale.tornado.cudaGraphs";

    private CudaGraphs() {}

    /** True when plans on {@code device} should use a CUDA graph: the backend can, and the switch is on. */
    static boolean use(TornadoDevice device) {
        return supports(device.getTornadoVMBackend()) && requested(System.getProperty(PROPERTY));
    }

    static boolean supports(TornadoVMBackendType backend) {
        return backend == TornadoVMBackendType.PTX || backend == TornadoVMBackendType.CUDA;
    }

    /** The switch's value: absent means on. */
    static boolean requested(String value) {
        if (value == null || value.equalsIgnoreCase("true")) {
            return true;
        }
        if (value.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("-D" + PROPERTY + " must be true or false, not '" + value + "'");
    }
}
