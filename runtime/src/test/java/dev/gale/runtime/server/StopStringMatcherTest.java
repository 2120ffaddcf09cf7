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
    void earliestStopWins() {
        StopStringMatcher m = new StopStringMatcher(List.of("cd", "b"));
        assertEquals("a", m.feed("abcd"));
    }

    /** Whatever the pieces, the emitted text is the text up to the first stop string (all of it if none). */
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
        int first = stops.stream().mapToInt(text::indexOf).filter(i -> i >= 0).min().orElse(text.length());
        assertEquals(text.substring(0, first), out.toString());
        assertEquals(first < text.length() || stops.stream().anyMatch(s -> text.indexOf(s) >= 0), m.stopped());
    }
}
