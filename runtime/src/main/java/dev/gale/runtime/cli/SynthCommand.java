package dev.gale.runtime.cli;

import dev.gale.model.convert.ModelShape;
import dev.gale.model.convert.ModelSynthesizer;
import dev.gale.model.convert.MatrixTypes;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gale synth}: a model of a real shape with seeded random weights, for benchmarks and tests. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a model of a real shape with seeded random weights and the tokenizer of a vocabulary GGUF.",
                "Shapes: llama-3.2-1b, llama-3.2-3b, llama-3.1-8b, qwen2.5-0.5b, qwen3-0.6b, tiny; the size options"
                        + " override a shape's values."})
final class SynthCommand implements Callable<Integer>, CommonOptions.Holder {
    @Mixin
    CommonOptions common;

    @Option(names = "--shape", defaultValue = "tiny", description = "Model shape (default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--type", defaultValue = "Q8_0",
            description = "Matrix type: Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, F16, BF16 or F32, or the mix Q4_K_M or Q5_K_M"
                    + " (Q4_K or Q5_K with Q6_K where llama-quantize puts it) (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--vocab", required = true, description = "GGUF file whose tokenizer.* keys the model takes"
            + " (its token list is padded or trimmed to the vocabulary size).")
    Path vocab;

    @Option(names = {"-o", "--out"}, required = true, description = "Output GGUF file.")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--dim", description = "Embedding width.")
    Integer dim;

    @Option(names = "--layers", description = "Transformer blocks.")
    Integer layers;

    @Option(names = "--heads", description = "Query heads.")
    Integer heads;

    @Option(names = "--kv-heads", description = "Key/value heads.")
    Integer kvHeads;

    @Option(names = "--head-dim", description = "Width of a head (default: dim / heads when dim or heads is given).")
    Integer headDim;

    @Option(names = "--ffn", description = "Feed-forward hidden width.")
    Integer ffn;

    @Option(names = "--vocab-size", description = "Vocabulary size (default: the shape's; tiny: the vocabulary file's).")
    Integer vocabSize;

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() throws Exception {
        ModelShape s = ModelShape.named(shape);
        if (dim != null || layers != null || heads != null || kvHeads != null || headDim != null || ffn != null
                || vocabSize != null) {
            s = s.with(dim, layers, heads, kvHeads, headDim, ffn, vocabSize);
        }
        MatrixTypes t = QuantizeCommand.parseMatrixTypes(type);
        long t0 = System.nanoTime();
        ModelSynthesizer.Summary summary = ModelSynthesizer.write(s, t, vocab, out, seed);
        System.out.printf("wrote %s: %s, %s, %s in %.1f s (%s)%n", out, s.name(), t, InfoCommand.bytes(summary.fileBytes()),
                (System.nanoTime() - t0) / 1e9, QuantizeCommand.describe(summary.byType()));
        return 0;
    }
}
