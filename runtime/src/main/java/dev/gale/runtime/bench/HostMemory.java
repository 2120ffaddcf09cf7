package dev.gale.runtime.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Peak host memory over a stretch of work. On Linux this is the process's peak resident set size ({@code VmHWM}
 * in {@code /proc/self/status}, reset through {@code /proc/self/clear_refs}): the Java heap, the JVM itself and
 * the pages of the mapped model file that were touched. Elsewhere it is the sum of the heap pools' peak usage plus
 * the size of the mapped file (which the loader pages in whole).
 */
public final class HostMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private final boolean processPeak;

    private HostMemory(boolean processPeak) {
        this.processPeak = processPeak;
    }

    /** Uses the process peak where the OS lets it be reset, else the heap-plus-mapping estimate. */
    public static HostMemory detect() {
        HostMemory procfs = new HostMemory(true);
        try {
            procfs.resetPeak();
            procfs.peakRss();
            return procfs;
        } catch (IOException | RuntimeException e) {
            return new HostMemory(false);
        }
    }

    /** What {@link #peakBytes} measures, for the report. */
    public String description() {
        return processPeak
                ? "peak resident set size of the process (Linux VmHWM, reset before each repetition): Java heap, "
                        + "JVM and the resident pages of the mapped model file"
                : "peak Java heap usage (sum of the heap pools' peaks) plus the size of the mapped model file";
    }

    /** Starts a new measuring stretch. */
    public void resetPeak() throws IOException {
        if (processPeak) {
            Files.writeString(CLEAR_REFS, "5");
        } else {
            heapPools().forEach(MemoryPoolMXBean::resetPeakUsage);
        }
    }

    /** Peak bytes since the last {@link #resetPeak}; {@code mappedBytes} is the model file's size. */
    public long peakBytes(long mappedBytes) throws IOException {
        if (processPeak) {
            return peakRss();
        }
        return heapPools().stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum() + mappedBytes;
    }

    private static long peakRss() throws IOException {
        for (String line : Files.readAllLines(STATUS)) {
            if (line.startsWith("VmHWM:")) {
                String[] parts = line.substring(6).strip().split("\\s+");
                return Long.parseLong(parts[0]) * 1024;
            }
        }
        throw new IOException("no VmHWM line in " + STATUS);
    }

    private static List<MemoryPoolMXBean> heapPools() {
        return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
    }
}
