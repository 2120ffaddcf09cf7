package dev.gale.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * A JMH counter of bytes read: a benchmark adds the gigabytes each call reads, and JMH reports their rate (GB/s) as
 * the secondary result {@code gigabytes}.
 */
@AuxCounters(AuxCounters.Type.OPERATIONS)
@State(Scope.Thread)
public class Traffic {
    public double gigabytes;

    @Setup(Level.Iteration)
    public void reset() {
        gigabytes = 0;
    }
}
