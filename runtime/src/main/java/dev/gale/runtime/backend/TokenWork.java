package dev.gale.runtime.backend;

/**
 * What a device backend does per decoded token.
 *
 * @param kernelLaunches      kernels launched
 * @param hostDeviceTransfers copies between host and device memory (greedy decoding: ids only)
 */
public record TokenWork(int kernelLaunches, int hostDeviceTransfers) {
    @Override
    public String toString() {
        return kernelLaunches + " kernel launches + " + hostDeviceTransfers + " transfers per token";
    }
}
