package dev.gale.runtime.scheduler;

/** A submitted request. */
public interface Ticket {

    /**
     * Stops the request at the next step (e.g. its client went away): its KV blocks are released and the observer
     * gets {@code onFinish(CANCELLED)}. Safe from any thread; does nothing once the request has ended.
     */
    void cancel();
}
