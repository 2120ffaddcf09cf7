package dev.gale.runtime.cpu;

import dev.gale.runtime.ChildJvm;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.management.ThreadMXBean;
import dev.gale.model.Model;
import dev.gale.runtime.SharedData;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CpuSessionTest {

    /**
     * Once compiled, decoding a token allocates nothing on the thread that drives the session (which also takes
     * part in every parallel loop): not the logits, not the loop bodies, not the kernels' scratch. Measured in a
     * JVM of its own with one model, as in use: what the JIT makes of the kernels depends on what else the JVM ran
     * before (the test JVM has run many models). What the JIT makes of them also varies from one JVM to the next:
     * in one of about a dozen runs of the tests on this project's shared 2-core machine (a clean clone, 2026-11-27),
     * the stories260K JVM kept allocating 21696 bytes a round through all 4000 rounds, while eight JVMs started
     * by hand right after allocated nothing. So a JVM that ends allocating is followed by one more; a real
     * allocation on the decode path shows in both.
     */
    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "tiny/tiny-llama-q8_0.gguf"})
    void decodeAllocatesNothingOnceCompiled(String file) throws Exception {
        String out = ChildJvm.run(CpuSessionTest.class, SharedData.model(file).toString());
        if (!"0".equals(ChildJvm.last(out, "allocated"))) {
            out = out + "\n-- a second JVM --\n" + ChildJvm.run(CpuSessionTest.class, SharedData.model(file).toString());
        }
        assertEquals("0", ChildJvm.last(out, "allocated"), file + ": bytes allocated by 16 decoded tokens after warm-up\n" + out);
    }

    /** Decodes the same 16 positions over and over until a round allocates nothing; prints the last count. */
    public static void main(String[] args) throws Exception {
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Model model = Model.open(Path.of(args[0]));
             InferenceEngine engine = new CpuBackendProvider().load(model, new BackendOptions(2, 0, 64));
             InferenceSession s = engine.newSession(64)) {
            int[] prompt = {1, 5, 9, 13};
            s.forward(prompt, false);
            long allocated = -1;
            for (int round = 0; round < 4000 && allocated != 0; round++) {
                s.truncate(prompt.length);
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 16; i++) {
                    s.decode(20 + i);
                }
                allocated = mx.getCurrentThreadAllocatedBytes() - before;
            }
            System.out.println("allocated " + allocated);
        }
    }
}
