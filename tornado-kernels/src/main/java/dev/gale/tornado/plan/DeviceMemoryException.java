package dev.gale.tornado.plan;

/** A model (with its KV cache) does not fit the chosen device's memory. */
public class DeviceMemoryException extends IllegalArgumentException {
    public DeviceMemoryException(String message) {
        super(message);
    }
}
