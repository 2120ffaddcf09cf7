package dev.gale.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.runtime.SharedData;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code gale chat} with piped input: one turn per line, replies on stdout, timings and commands on stderr. */
class ChatCommandTest {
    private static final Pattern TURN = Pattern.compile("prompt: (\\d+) reused \\+ (\\d+) prefilled");
    private static final Pattern CONTEXT = Pattern.compile("context (\\d+) / (\\d+) tokens");

    private record Run(int exitCode, String out, String err) {
    }

    private static Run chat(String input, String... args) {
        InputStream in = System.in;
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            List<String> all = new ArrayList<>(List.of("chat", "--model", SharedData.model("stories260K.gguf").toString(),
                    "--temperature", "0", "--threads", "1"));
            all.addAll(List.of(args));
            int code = GaleCli.run(all.toArray(String[]::new));
            return new Run(code, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(in);
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void scriptedTwoTurnChatReusesTheCache() {
        Run run = chat("Once upon a time, there was a big tree.\n/stats\n\nA bird lived in the tree.\n", "--max-tokens", "20");
        assertEquals(0, run.exitCode(), run.err());
        String[] replies = run.out().split("\n", -1);
        assertEquals(3, replies.length, "two replies, each ending with a newline: " + run.out());
        assertTrue(!replies[0].isBlank() && !replies[1].isBlank(), run.out());

        List<int[]> turns = new ArrayList<>();
        for (Matcher m = TURN.matcher(run.err()); m.find(); ) {
            turns.add(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
        }
        assertEquals(2, turns.size(), run.err());
        Matcher context = CONTEXT.matcher(run.err());
        assertTrue(context.find(), run.err());
        int heldAfterFirst = Integer.parseInt(context.group(1));
        assertEquals(0, turns.get(0)[0], "the first turn has nothing to reuse");
        assertTrue(heldAfterFirst > turns.get(0)[1], "the cache holds the prompt and the reply");
        assertEquals(heldAfterFirst, turns.get(1)[0], "the second turn reuses the whole first exchange");
        assertTrue(turns.get(1)[1] < 16, "the second turn prefills only its new tokens: " + turns.get(1)[1]);
        assertTrue(run.err().contains("template: plain (built in)"), run.err());
    }

    @Test
    void commandsAnswerOnStderr() {
        Run run = chat("/system Tell a story.\n/system\n/bogus\n/reset\n/help\n/quit\nnever read\n");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("", run.out());
        assertTrue(run.err().contains("system prompt set; new conversation"), run.err());
        assertTrue(run.err().contains("system prompt: Tell a story."), run.err());
        assertTrue(run.err().contains("unknown command /bogus; /help lists the commands"), run.err());
        assertTrue(run.err().contains("conversation cleared"), run.err());
        assertTrue(run.err().contains("/system TEXT"), run.err());
    }

    @Test
    void badOptionsGiveClearErrors() {
        Run run = chat("", "--max-tokens", "0");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("--max-tokens must be >= 1, got 0"), run.err());
    }
}
