package dev.gale.runtime.kv;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How much KV cache to allocate: an amount of memory ({@code 512}, {@code 512MiB}, {@code 2GiB}; a plain number is
 * MiB) or a number of positions ({@code 8192tok}).
 *
 * @param bytes  memory, or 0 when given in positions
 * @param tokens positions, or 0 when given in memory
 */
public record KvBudget(long bytes, long tokens) {
    private static final Pattern FORM = Pattern.compile("(\\d+)\\s*(mib|mb|m|gib|gb|g|tok|tokens)?");

    public static KvBudget parse(String text) {
        Matcher m = FORM.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("KV budget '" + text + "' is not a size: use e.g. 512 (MiB), 2GiB or 8192tok");
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("KV budget '" + text + "' is too large");
        }
        if (n <= 0 || n > (1L << 40)) {
            throw new IllegalArgumentException("KV budget must be positive and below 2^40, got '" + text + "'");
        }
        String unit = m.group(2) == null ? "mib" : m.group(2);
        return switch (unit) {
            case "tok", "tokens" -> new KvBudget(0, n);
            case "gib", "gb", "g" -> new KvBudget(n << 30, 0);
            default -> new KvBudget(n << 20, 0);
        };
    }

    /** The number of blocks of {@code blockSize} positions this budget allows (at least one). */
    public int blocks(long bytesPerPosition, int blockSize) {
        long positions = tokens > 0 ? tokens : bytes / bytesPerPosition;
        long blocks = Math.max(1, positions / blockSize);
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("KV budget of " + blocks + " blocks is too large");
        }
        return (int) blocks;
    }

    @Override
    public String toString() {
        return tokens > 0 ? tokens + " positions" : (bytes >> 20) + " MiB";
    }
}
