package dev.gale.runtime.server;

import java.util.List;

/**
 * Finds stop strings in text that arrives piece by piece. Text that could be the start of a stop string is held
 * back until it is clear, so streamed text never contains any part of a stop string.
 */
final class StopStringMatcher {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopStringMatcher(List<String> stops) {
        this.stops = stops;
    }

    /** Whether a stop string has been seen; no more text is released after that. */
    boolean stopped() {
        return stopped;
    }

    /** Adds text; returns the part that is now safe to emit (up to a stop string, if one completed). */
    String feed(String text) {
        if (stopped) {
            return "";
        }
        held.append(text);
        String h = held.toString();
        // the stop string that is complete soonest wins (the longest, if several end at the same place), so the
        // result does not depend on how the text was cut into pieces
        int cut = -1;
        int cutEnd = Integer.MAX_VALUE;
        for (String s : stops) {
            int i = h.indexOf(s);
            if (i >= 0 && (i + s.length() < cutEnd || i + s.length() == cutEnd && i < cut)) {
                cut = i;
                cutEnd = i + s.length();
            }
        }
        if (cut >= 0) {
            stopped = true;
            held.setLength(0);
            return h.substring(0, cut);
        }
        int keep = 0;
        for (String s : stops) {
            keep = Math.max(keep, partialMatchAtEnd(h, s));
        }
        held.delete(0, h.length() - keep);
        return h.substring(0, h.length() - keep);
    }

    /** The text still held back (at the end of generation it is emitted: no stop string completed). */
    String flush() {
        String out = stopped ? "" : held.toString();
        held.setLength(0);
        return out;
    }

    /** Length of the longest proper prefix of {@code stop} that {@code text} ends with. */
    private static int partialMatchAtEnd(String text, String stop) {
        for (int len = Math.min(stop.length() - 1, text.length()); len > 0; len--) {
            if (text.regionMatches(text.length() - len, stop, 0, len)) {
                return len;
            }
        }
        return 0;
    }
}
