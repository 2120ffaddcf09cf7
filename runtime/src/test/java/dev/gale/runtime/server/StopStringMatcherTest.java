package dev.gale.runtime.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;

class StopStringMatcherTest {

    @Example
    void holdsBackAPartialStopString() {
        StopStringMatcher m = new StopStringMatcher(List.of("END"));
        assertEquals("abc", m.feed("abcE"));
        assertEquals("", m.feed("N"));
        assertEquals("ENx", m.feed("x"), "the partial match was not a stop string after all");
        assertEquals("y", m.feed("yEND more"), "text before the stop string is released");
        assertTrue(m.stopped());
        assertEquals("", m.feed("ignored"));
        assertEquals("", m.flush());
    }

    @Example
    void flushReleasesHeldTextWhenNoStopCompleted() {
        StopStringMatcher m = new StopStringMatcher(List.of("\n\n"));
        assertEquals("line", m.feed("line\n"));
        assertFalse(m.stopped());
        assertEquals("\n", m.flush());
    }

    @Example
    void theStopCompleteSoonestWins() {
        assertEquals("a", new StopStringMatcher(List.of("cd", "b")).feed("abcd"));
        assertEquals("a", new StopStringMatcher(List.of("acc", "c")).feed("acc"), "'c' is complete before 'acc'");
        assertEquals("", new StopStringMatcher(List.of("c", "ac")).feed("ac"), "the longer of two ending together");
    }

    /**
     * Whatever the pieces, the emitted text is what checking after every character gives: the text before the first
     * stop string to be complete (all of it if none is).
     */
    @Property(tries = 500)
    void emittedTextIsThePrefixBeforeTheFirstStop(@ForAll @StringLength(max = 40) @CharRange(from = 'a', to = 'c') String text,
                                                  @ForAll @Size(min = 1, max = 3) List<@StringLength(min = 1, max = 3) @CharRange(from = 'a', to = 'c') String> stops,
                                                  @ForAll @Size(max = 40) List<@IntRange(min = 1, max = 5) Integer> cuts) {
        StopStringMatcher m = new StopStringMatcher(stops);
        StringBuilder out = new StringBuilder();
        int pos = 0;
        for (int c : cuts) {
            if (pos >= text.length()) {
                break;
            }
            int end = Math.min(text.length(), pos + c);
            out.append(m.feed(text.substring(pos, end)));
            pos = end;
        }
        out.append(m.feed(text.substring(pos)));
        out.append(m.flush());
        String expected = text;
        boolean stop = false;
        for (int end = 1; end <= text.length() && !stop; end++) {
            String upTo = text.substring(0, end);
            int longest = stops.stream().filter(upTo::endsWith).mapToInt(String::length).max().orElse(-1);
            if (longest >= 0) {
                expected = text.substring(0, end - longest);
                stop = true;
            }
        }
        assertEquals(expected, out.toString());
        assertEquals(stop, m.stopped());
    }
}
