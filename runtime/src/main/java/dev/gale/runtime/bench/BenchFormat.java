package dev.gale.runtime.bench;

import java.util.Locale;

/** How figures are written in tables and charts. */
final class BenchFormat {
    private BenchFormat() {}

    /** Three significant digits or more: 1234, 123, 12.3, 1.23, 0.123. */
    static String number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        String pattern = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : a >= 0.01 ? "%.3f" : "%.2g";
        return String.format(Locale.ROOT, pattern, v);
    }

    /** The median, and the range when it spans more than one value. */
    static String stats(Stats s) {
        if (s.min() == s.max()) {
            return number(s.median());
        }
        return number(s.median()) + " (" + number(s.min()) + "–" + number(s.max()) + ")";
    }

    static String mebibytes(double bytes) {
        return number(bytes / (1 << 20));
    }

    static String dollars(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "n/a";
        }
        return "$" + (v >= 0.01 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.2g", v));
    }
}
