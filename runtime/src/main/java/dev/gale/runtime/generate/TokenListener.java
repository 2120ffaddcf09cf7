package dev.gale.runtime.generate;

/** Receives tokens as they are produced; returning false stops generation. */
@FunctionalInterface
public interface TokenListener {
    boolean onToken(int token);
}
