package dev.gale.runtime.cli;

import dev.gale.model.Model;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.model.tokenizer.Utf8StreamDecoder;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.BackendProvider;
import dev.gale.runtime.backend.Backends;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.generate.GenerationResult;
import dev.gale.runtime.generate.Generator;
import dev.gale.runtime.load.ModelLoader;
import dev.gale.runtime.sampling.SamplingParams;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gale generate}: stream a completion to stdout, one metrics line to stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt. The text streams to stdout; a metrics line goes to stderr.")
final class GenerateCommand implements Callable<Integer>, CommonOptions.Holder {

    @Mixin
    CommonOptions common;

    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model file.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptSource prompt;

    static final class PromptSource {
        @Option(names = {"-p", "--prompt"}, description = "Prompt text.")
        String text;

        @Option(names = "--prompt-ids", split = ",", description = "Prompt as token ids, e.g. 1,15,27 (no BOS added).")
        int[] ids;
    }

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--print-ids", description = "Print the generated token ids instead of text.")
    boolean printIds;

    @Mixin
    EngineOptions engineOptions;

    @Option(names = "--no-bos", description = "Do not add BOS to a text prompt.")
    boolean noBos;

    @Option(names = "--ignore-eos", description = "Keep generating past end-of-text tokens.")
    boolean ignoreEos;

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("--max-tokens must be >= 0, got " + maxTokens);
        }
        SamplingParams params = sampling.params();
        BackendOptions options = engineOptions.backendOptions();
        BackendProvider provider = Backends.named(engineOptions.backend);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
        PrintStream err = System.err;
        try (Model m = ModelLoader.load(model, true, err);
             InferenceEngine engine = provider.load(m, options);
             InferenceSession session = engine.newSession(options.contextLength())) {
            Tokenizer tok = m.tokenizer();
            int[] ids;
            if (prompt.ids != null) {
                ids = prompt.ids;
            } else {
                ids = tok.encode(prompt.text, !noBos, false);
            }
            if (ids.length == 0) {
                throw new IllegalArgumentException("the prompt is empty after tokenization");
            }
            Set<Integer> end = ignoreEos ? Set.of() : tok.endOfGenerationIds();
            Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
            boolean[] first = {true};
            GenerationResult r = Generator.generate(session, ids, params, maxTokens, end, token -> {
                if (printIds) {
                    out.print(first[0] ? String.valueOf(token) : "," + token);
                    first[0] = false;
                } else {
                    out.print(utf8.feed(tok.tokenBytes(token, false)));
                }
                out.flush();
                return true;
            });
            if (!printIds) {
                out.print(utf8.flush());
            }
            out.println();
            out.flush();
            err.println(r.metrics().summary() + " [" + engine.backendName() + ": " + engine.deviceName()
                    + engine.workPerToken().map(w -> ", " + w).orElse("")
                    + ", stop: " + r.stopReason().name().toLowerCase() + "]");
            if (common.verbose) {
                err.println("prompt ids: " + Arrays.toString(ids));
            }
        }
        return 0;
    }
}
