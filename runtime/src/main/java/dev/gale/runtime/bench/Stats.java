package dev.gale.runtime.bench;

import java.util.Arrays;

/**
 * Median, minimum and maximum of one figure over the measured repetitions.
 */
public record Stats(double median, double min, double max) {

    public static Stats of(double... values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values to summarize");
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        return new Stats(median, v[0], v[n - 1]);
    }
}
