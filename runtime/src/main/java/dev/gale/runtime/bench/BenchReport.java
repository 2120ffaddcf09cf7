package dev.gale.runtime.bench;

import java.util.List;

/**
 * A whole benchmark run: where it ran, what it measured and the results.
 *
 * @param timestamp    when the run started (ISO-8601)
 * @param gale         Gale version
 * @param machine      the host machine and JDK
 * @param settings     the settings the results were measured with
 * @param pricePerHour hardware price in $/h the costs were computed with, or null
 * @param hostMemory   what {@link BenchResult#peakHostBytes()} measures
 * @param results      one per model and target
 * @param skipped      models and targets that could not be measured, each with the reason
 */
public record BenchReport(String timestamp, String gale, MachineInfo machine, BenchSettings settings,
                          Double pricePerHour, String hostMemory, List<BenchResult> results, List<String> skipped) {

    public BenchReport {
        results = List.copyOf(results);
        skipped = List.copyOf(skipped);
    }
}
