package dev.gale.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gale.runtime.SharedData;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The CLI as a user runs it: a child JVM, stdout for the text, one metrics line on stderr. */
class CliTest {
    private static final String STORIES = "stories260K.gguf";

    @Test
    void greedyIdsMatchLlamaCpp() throws Exception {
        JsonNode g = new ObjectMapper().readTree(SharedData.golden("stories260K.once-upon-a-time.json").toFile());
        String prompt = Arrays.stream(g.get("prompt_tokens").toString().replaceAll("[\\[\\]]", "").split(","))
                .collect(Collectors.joining(","));
        CliProcess.Result r = CliProcess.run("generate", "--model", SharedData.model(STORIES).toString(),
                "--prompt-ids", prompt, "--temperature", "0", "--max-tokens", "64", "--ignore-eos", "--print-ids");
        assertEquals(0, r.exitCode(), r.stderr());
        String expected = g.get("greedy_tokens").toString().replaceAll("[\\[\\]]", "");
        assertEquals(expected, r.stdout().strip());
        assertTrue(r.stderr().contains("prompt tokens: 5, generated tokens: 64"), r.stderr());
        assertTrue(r.stderr().contains("decode:") && r.stderr().contains("tok/s"), r.stderr());
    }

    @Test
    void textPromptStreamsTheGoldenText() throws Exception {
        JsonNode g = new ObjectMapper().readTree(SharedData.golden("stories260K.lily-wanted-to.json").toFile());
        CliProcess.Result r = CliProcess.run("generate", "--model", SharedData.model(STORIES).toString(),
                "--prompt", "Lily wanted to", "--temperature", "0", "--max-tokens", "64", "--ignore-eos");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(g.get("greedy_text").asText(), r.stdout().substring(0, r.stdout().length() - 1));
        assertEquals(1, r.stderr().strip().lines().count(), "exactly one metrics line on stderr: " + r.stderr());
    }

    @Test
    void sameSeedSameText() throws Exception {
        String[] args = {"generate", "--model", SharedData.model(STORIES).toString(), "--prompt", "Once upon a time",
                "--temperature", "1.0", "--seed", "42", "--max-tokens", "40"};
        CliProcess.Result a = CliProcess.run(args);
        CliProcess.Result b = CliProcess.run(args);
        assertEquals(0, a.exitCode(), a.stderr());
        assertEquals(a.stdout(), b.stdout());
        args[args.length - 3] = "43";
        CliProcess.Result c = CliProcess.run(args);
        assertFalse(a.stdout().equals(c.stdout()), "a different seed should give different text");
    }

    @Test
    void tokenizePrintsIds() throws Exception {
        CliProcess.Result r = CliProcess.run("tokenize", "--model", SharedData.model(STORIES).toString(),
                "--text", "Once upon a time");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals("1 403 407 261 378", r.stdout().strip());
    }

    @Test
    void infoDescribesTheModel() throws Exception {
        CliProcess.Result r = CliProcess.run("info", "--model", SharedData.model("tiny/tiny-llama-q4_0.gguf").toString());
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stdout().contains("architecture:    llama"), r.stdout());
        assertTrue(r.stdout().contains("Q4_0"), r.stdout());
        assertTrue(r.stdout().contains("heads:           4 (kv 2, head dim 16"), r.stdout());
    }

    @Test
    void missingFileIsOneClearLine() throws Exception {
        CliProcess.Result r = CliProcess.run("generate", "--model", "/nonexistent/model.gguf", "--prompt", "hi");
        assertEquals(1, r.exitCode());
        assertEquals("gale: error: file not found: /nonexistent/model.gguf", r.stderr().strip());
        assertEquals("", r.stdout());
    }

    @Test
    void unsupportedVersionIsOneClearLine() throws Exception {
        CliProcess.Result r = CliProcess.run("info", "--model",
                SharedData.model("tinyllamas-stories-260k-f32.v1.gguf").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().startsWith("gale: error: ") && r.stderr().contains("GGUF version 1 is not supported"),
                r.stderr());
        assertEquals(1, r.stderr().strip().lines().count(), r.stderr());
    }

    @Test
    void badOptionIsAUsageError() throws Exception {
        CliProcess.Result r = CliProcess.run("generate", "--model", SharedData.model(STORIES).toString(),
                "--prompt", "hi", "--max-tokens", "many");
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("--max-tokens"), r.stderr());
    }

    @Test
    void contextOverflowIsAClearError() throws Exception {
        CliProcess.Result r = CliProcess.run("generate", "--model", SharedData.model(STORIES).toString(),
                "--prompt", "Once upon a time", "--ctx-size", "3");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().contains("context window exceeded"), r.stderr());
    }

    @Test
    void verboseShowsTheStackTrace() throws Exception {
        CliProcess.Result r = CliProcess.run("generate", "--verbose", "--model", SharedData.model(STORIES).toString(),
                "--prompt", "Once upon a time", "--ctx-size", "3");
        assertEquals(1, r.exitCode());
        assertTrue(r.stderr().contains("\tat dev.gale"), r.stderr());
    }
}
