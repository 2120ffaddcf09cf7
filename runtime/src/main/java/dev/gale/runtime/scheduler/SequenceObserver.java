package dev.gale.runtime.scheduler;

import dev.gale.runtime.generate.StopReason;

/**
 * Receives one request's tokens from the scheduler. Every method is called on the scheduler thread, so it must be
 * quick and must not block: hand the results to another thread. Exactly one of {@link #onFinish} and
 * {@link #onError} is called, once, at the end.
 */
public interface SequenceObserver {

    /**
     * A generated token (end tokens are not passed). Returns null to go on, or the reason to stop here, e.g.
     * {@link StopReason#STOP_STRING} when the text now ends with a stop string.
     */
    StopReason onToken(int token);

    /** Generation ended normally, or was cancelled; the sequence's KV blocks are already released. */
    void onFinish(StopReason reason, SequenceStats stats);

    /** The forward pass failed; the sequence's KV blocks are already released. */
    void onError(RuntimeException error);
}
