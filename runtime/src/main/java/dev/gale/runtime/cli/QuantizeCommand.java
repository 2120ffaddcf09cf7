package dev.gale.runtime.cli;

import dev.gale.model.convert.MatrixTypes;
import dev.gale.model.convert.ModelQuantizer;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.tensor.Quantizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gale quantize}: requantize an F32 / F16 / BF16 model. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Requantize an F32, F16 or BF16 model as llama-quantize does without an importance matrix:"
                + " matrices take the type, 1-D tensors stay F32."})
final class QuantizeCommand implements Callable<Integer>, CommonOptions.Holder {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Input GGUF model.")
    Path in;

    @Parameters(index = "1", description = "Output GGUF file.")
    Path out;

    @Option(names = "--type", required = true, description = "Q8_0, Q4_0, Q4_K, Q5_K, Q6_K, F16 or BF16, or the mix Q4_K_M or Q5_K_M.")
    String type;

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() throws Exception {
        MatrixTypes t = parseMatrixTypes(type);
        long t0 = System.nanoTime();
        ModelQuantizer.Summary summary = ModelQuantizer.quantize(in, out, t);
        System.out.printf("wrote %s: %s in %.1f s (%s)%n", out, InfoCommand.bytes(summary.fileBytes()),
                (System.nanoTime() - t0) / 1e9, describe(summary.byType()));
        return 0;
    }

    /** A type name the quantizer can write, case-insensitively. */
    static GgmlType parseType(String name) {
        try {
            GgmlType t = GgmlType.valueOf(name.toUpperCase(Locale.ROOT));
            if (Quantizer.canQuantize(t)) {
                return t;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw unsupported(name, "");
    }

    /** A type name for {@code gale synth}, {@code gale bench} and {@code gale quantize}: a type, or a mix (Q4_K_M). */
    static MatrixTypes parseMatrixTypes(String name) {
        try {
            return MatrixTypes.parse(name);
        } catch (IllegalArgumentException e) {
            throw unsupported(name, ", " + MatrixTypes.Q4_K_M.name() + ", " + MatrixTypes.Q5_K_M.name());
        }
    }

    private static IllegalArgumentException unsupported(String name, String more) {
        String known = Arrays.stream(GgmlType.values()).filter(Quantizer::canQuantize).map(Enum::name)
                .collect(Collectors.joining(", "));
        return new IllegalArgumentException("--type " + name + " is not supported (supported: " + known + more + ")");
    }

    /** "113 Q8_0, 34 F32". */
    static String describe(Map<GgmlType, long[]> byType) {
        return byType.entrySet().stream().map(e -> e.getValue()[0] + " " + e.getKey()).collect(Collectors.joining(", "))
                + " tensors";
    }
}
