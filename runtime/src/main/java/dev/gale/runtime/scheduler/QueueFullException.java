package dev.gale.runtime.scheduler;

/** The scheduler's waiting queue is full; try again later. */
public class QueueFullException extends RuntimeException {
    public QueueFullException(int capacity) {
        super("the server is busy: " + capacity + " requests are already waiting; retry later");
    }
}
