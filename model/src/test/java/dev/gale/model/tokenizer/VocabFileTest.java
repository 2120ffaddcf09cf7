package dev.gale.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.SharedTestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * llama.cpp's tokenizer test vectors ({@code models/vocab/*.inp} / {@code *.out}, made with add_special = false and
 * parse_special = false): every case of every pair must give exactly the expected ids, and decode back to its text.
 */
class VocabFileTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    /** Test-vector files whose vocabulary is not the GGUF of the same name (upstream files too big to keep). */
    private static final Map<String, String> VOCAB_FOR = Map.of(
            "ggml-vocab-llama-bpe.gguf", "vocab-llama3-bpe.derived.gguf",
            "ggml-vocab-qwen2.gguf", "vocab-qwen2-bpe.derived.gguf");

    record Case(int index, String text, int[] expected) {
    }

    static List<Case> read(Path inp, Path out) throws IOException {
        String input = Files.readString(inp, StandardCharsets.UTF_8);
        if (!input.endsWith(SEPARATOR)) {
            throw new IllegalStateException(inp + " does not end with the test separator");
        }
        String[] texts = input.substring(0, input.length() - SEPARATOR.length()).split(SEPARATOR, -1);
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(texts.length, lines.size(), () -> inp + " and " + out + " have different numbers of tests");
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            String line = lines.get(i).strip();
            int[] ids = line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
            cases.add(new Case(i, texts[i], ids));
        }
        return cases;
    }

    static String describe(String text) {
        String s = text.replace("\n", "\\n").replace("\t", "\\t");
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    @TestFactory
    Stream<DynamicNode> everyVocabTestFile() throws IOException {
        Path dir = SharedTestData.model("vocab");
        List<Path> inputs;
        try (Stream<Path> files = Files.list(dir)) {
            inputs = files.filter(p -> p.getFileName().toString().endsWith(".inp")).sorted().toList();
        }
        assertFalse(inputs.isEmpty(), "no *.inp files in " + dir);
        List<DynamicNode> nodes = new ArrayList<>();
        for (Path inp : inputs) {
            String base = inp.getFileName().toString();
            base = base.substring(0, base.length() - ".inp".length());
            Path out = dir.resolve(base + ".out");
            String vocabName = VOCAB_FOR.getOrDefault(base, base);
            assertTrue(Files.exists(out), "no .out file for " + inp);
            assertTrue(Files.exists(dir.resolve(vocabName)), "no vocabulary GGUF for " + inp
                    + " (looked for " + vocabName + ")");
            List<Case> cases = read(inp, out);
            String relative = "vocab/" + vocabName;
            List<DynamicNode> tests = new ArrayList<>();
            for (Case c : cases) {
                String name = "#" + c.index() + " '" + describe(c.text()) + "'";
                tests.add(DynamicTest.dynamicTest("encode " + name, () -> {
                    Tokenizer t = TestVocabs.tokenizer(relative);
                    assertArrayEquals(c.expected(), t.encode(c.text(), false, false), () -> "ids of " + name);
                }));
                tests.add(DynamicTest.dynamicTest("decode " + name, () -> {
                    Tokenizer t = TestVocabs.tokenizer(relative);
                    String decoded = t.decode(c.expected());
                    // SentencePiece vocabularies prepend a space to the text (add_space_prefix)
                    String expected = t instanceof SentencePieceTokenizer && !c.text().isEmpty()
                            ? " " + c.text() : c.text();
                    assertEquals(expected, decoded, () -> "decoded text of " + name);
                }));
            }
            nodes.add(DynamicContainer.dynamicContainer(base + " (" + cases.size() + " cases, " + vocabName + ")",
                    tests));
        }
        return nodes.stream();
    }
}
