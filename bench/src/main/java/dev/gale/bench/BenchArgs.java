package dev.gale.bench;

import java.util.function.Function;

/** Whole-number options of the benchmark command lines, with a message naming the option when one is wrong. */
public final class BenchArgs {
    private BenchArgs() {}

    /** {@code value}, the text given for {@code option}, as a whole number of at least {@code min}. */
    public static int atLeast(String option, String value, int min) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + value + "' is not a whole number");
        }
        if (n < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + " (got " + n + ")");
        }
        return n;
    }

    /**
     * The options {@code parse} reads from {@code args}; where it rejects them, prints its message after
     * {@code tool}'s name and exits with status 2.
     */
    public static <T> T parseOrExit(String tool, String[] args, Function<String[], T> parse) {
        try {
            return parse.apply(args);
        } catch (IllegalArgumentException e) {
            System.err.println(tool + ": " + e.getMessage());
            System.exit(2);
            throw e;
        }
    }
}
