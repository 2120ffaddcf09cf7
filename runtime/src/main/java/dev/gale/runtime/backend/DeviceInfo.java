package dev.gale.runtime.backend;

/**
 * One device a backend can run on.
 *
 * @param index       index to pass as {@code --device}
 * @param backend     the backend's name
 * @param name        human-readable device name
 * @param kind        CPU, GPU, integrated GPU, accelerator...
 * @param memoryBytes memory the device offers, or -1 when unknown
 * @param detail      driver / platform detail
 */
public record DeviceInfo(int index, String backend, String name, String kind, long memoryBytes, String detail) {
}
