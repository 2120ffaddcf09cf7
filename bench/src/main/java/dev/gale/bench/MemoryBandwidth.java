package dev.gale.bench;

import dev.gale.runtime.cpu.WorkerPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A streaming-read probe of the machine's memory bandwidth: every thread of a pool sums its share of a large
 * off-heap buffer with vector loads. The buffer is far larger than the caches, so the rate is DRAM's. This is the
 * bound a memory-bound decode step is measured against.
 */
public final class MemoryBandwidth implements AutoCloseable {
    private static final VectorSpecies<Long> L = LongVector.SPECIES_512;
    /** Bytes a thread reads per task (a multiple of 256). */
    private static final int CHUNK = 1 << 20;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer;
    private final long[] partial;
    private final WorkerPool.RangeBody readChunks = this::readChunks;

    /** Allocates and fills a buffer of {@code bytes} (rounded down to whole chunks). */
    public MemoryBandwidth(long bytes) {
        long size = Math.max(CHUNK, bytes / CHUNK * CHUNK);
        this.buffer = arena.allocate(size, 64);
        for (long i = 0; i < size; i += 8) {
            buffer.set(java.lang.foreign.ValueLayout.JAVA_LONG, i, i);
        }
        this.partial = new long[(int) (size / CHUNK)];
    }

    public long bytes() {
        return buffer.byteSize();
    }

    /** Reads the whole buffer once on every thread of {@code pool}; returns a checksum. */
    public long read(WorkerPool pool) {
        pool.parallelFor(partial.length, readChunks);
        long s = 0;
        for (long p : partial) {
            s += p;
        }
        return s;
    }

    /** Reads the buffer {@code passes} times and returns the rate in GB/s (10^9 bytes per second). */
    public double measure(WorkerPool pool, int passes) {
        read(pool);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < passes; i++) {
            long t0 = System.nanoTime();
            read(pool);
            best = Math.min(best, System.nanoTime() - t0);
        }
        return bytes() / (double) best;
    }

    private void readChunks(int start, int end) {
        for (int c = start; c < end; c++) {
            partial[c] = sum(buffer, (long) c * CHUNK);
        }
    }

    private static long sum(MemorySegment s, long from) {
        LongVector a0 = LongVector.zero(L);
        LongVector a1 = a0;
        LongVector a2 = a0;
        LongVector a3 = a0;
        for (int o = 0; o < CHUNK; o += 256) {
            a0 = a0.add(LongVector.fromMemorySegment(L, s, from + o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(LongVector.fromMemorySegment(L, s, from + o + 64, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(LongVector.fromMemorySegment(L, s, from + o + 128, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(LongVector.fromMemorySegment(L, s, from + o + 192, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void close() {
        arena.close();
    }
}
