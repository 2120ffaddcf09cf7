package dev.gale.model.config;

/** A model file that is well formed but describes a model Gale cannot run. */
public class UnsupportedModelException extends RuntimeException {
    public UnsupportedModelException(String message) {
        super(message);
    }
}
