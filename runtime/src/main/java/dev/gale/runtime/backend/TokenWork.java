package dev.gale.runtime.backend;

/**
 * What a device backend does per token of greedy decoding (sampling adds the copy of the logits).
 *
 * @param kernelLaunches      kernels launched
 * @param hostDeviceTransfers copies between host and device memory
 */
public record TokenWork(int kernelLaunches, int hostDeviceTransfers) {
    @Override
    public String toString() {
        return kernelLaunches + " kernel launches + " + hostDeviceTransfers + " transfers per greedy token";
    }
}
