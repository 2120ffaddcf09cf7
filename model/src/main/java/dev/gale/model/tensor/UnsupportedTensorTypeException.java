package dev.gale.model.tensor;

import dev.gale.model.gguf.GgmlType;

/** A tensor type that Gale can read in a header but cannot compute with. */
public class UnsupportedTensorTypeException extends RuntimeException {
    public UnsupportedTensorTypeException(GgmlType type) {
        super("tensor type " + type + " is not supported (supported: " + GgmlType.supportedForCompute() + ")");
    }

    public UnsupportedTensorTypeException(String tensor, GgmlType type) {
        super("tensor '" + tensor + "' has type " + type + ", which is not supported (supported: "
                + GgmlType.supportedForCompute() + ")");
    }
}
