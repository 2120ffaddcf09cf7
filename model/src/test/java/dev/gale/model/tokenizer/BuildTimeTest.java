package dev.gale.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gale.model.gguf.GgufMetadata;
import org.junit.jupiter.api.Test;

/**
 * Building the biggest vocabularies (Llama 3: 128k tokens, 280k merges; Qwen2: 152k tokens) from already-read
 * metadata. Typically well under a second; the bound only catches pathological slow-downs on a busy machine.
 */
class BuildTimeTest {
    private static final long BOUND_MS = 10_000;

    private static long buildMillis(String relative) {
        GgufMetadata md = TestVocabs.metadata(relative);
        long start = System.nanoTime();
        Tokenizer t = Tokenizers.fromGguf(md);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(t.vocabSize() > 100_000);
        return ms;
    }

    @Test
    void biggestVocabulariesBuildQuickly() {
        long llama3 = buildMillis(TestVocabs.LLAMA3);
        long qwen2 = buildMillis(TestVocabs.QWEN2);
        System.out.printf("tokenizer build time: llama3-bpe %d ms, qwen2 %d ms%n", llama3, qwen2);
        assertTrue(llama3 < BOUND_MS, "llama3-bpe took " + llama3 + " ms");
        assertTrue(qwen2 < BOUND_MS, "qwen2 took " + qwen2 + " ms");
    }
}
