package dev.gale.runtime.cli;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.gguf.GgmlType;
import dev.gale.model.gguf.GgufFile;
import dev.gale.model.gguf.GgufTensorInfo;
import dev.gale.model.gguf.GgufValue;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gale info}: architecture, hyperparameters, tensor types and sizes. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Print a model's architecture, hyperparameters, tensor types and sizes.")
final class InfoCommand implements Callable<Integer>, CommonOptions.Holder {
    @Mixin
    CommonOptions common;

    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model file.")
    Path model;

    @Option(names = "--metadata", description = "Also print every metadata key.")
    boolean metadata;

    @Option(names = "--tensors", description = "Also print every tensor.")
    boolean tensors;

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() throws Exception {
        try (GgufFile gguf = GgufFile.open(model)) {
            System.out.printf("file:            %s%n", gguf.path());
            System.out.printf("format:          GGUF v%d, %d tensors, %d metadata keys, alignment %d%n",
                    gguf.version(), gguf.tensors().size(), gguf.metadata().size(), gguf.alignment());
            System.out.printf("size:            %s%n", bytes(gguf.fileSize()));
            System.out.printf("architecture:    %s%n", gguf.metadata().getString("general.architecture", "?"));
            System.out.printf("name:            %s%n", gguf.metadata().getString("general.name", "?"));
            if (!gguf.tensors().isEmpty()) {
                ModelConfig c = ModelConfig.fromGguf(gguf);
                System.out.printf("embedding:       %d%n", c.dim());
                System.out.printf("layers:          %d%n", c.layers());
                System.out.printf("heads:           %d (kv %d, head dim %d, value dim %d)%n", c.heads(), c.kvHeads(),
                        c.headDim(), c.valueDim());
                System.out.printf("feed-forward:    %d%n", c.ffnDim());
                System.out.printf("context:         %d%n", c.contextLength());
                System.out.printf("vocabulary:      %d%n", c.vocabSize());
                System.out.printf("rope:            base %s, dims %d, %s%s%n", c.ropeBase(), c.ropeDim(),
                        c.architecture().ropeLayout().name().toLowerCase(),
                        gguf.hasTensor("rope_freqs.weight") ? ", llama3 frequency factors" : "");
                System.out.printf("rms eps:         %s%n", c.rmsEps());
                if (c.slidingWindow() > 0) {
                    System.out.printf("sliding window:  %d (pattern %d)%n", c.slidingWindow(), c.slidingWindowPattern());
                }
                if (c.attnSoftcap() > 0 || c.finalSoftcap() > 0) {
                    System.out.printf("soft-capping:    attention %s, final %s%n", c.attnSoftcap(), c.finalSoftcap());
                }
            }
            Map<GgmlType, long[]> byType = new TreeMap<>();
            long total = 0;
            for (GgufTensorInfo t : gguf.tensors()) {
                long[] acc = byType.computeIfAbsent(t.type(), k -> new long[3]);
                acc[0]++;
                acc[1] += t.elementCount();
                acc[2] += t.byteSize();
                total += t.byteSize();
            }
            System.out.println("tensor types:");
            for (Map.Entry<GgmlType, long[]> e : byType.entrySet()) {
                System.out.printf("  %-7s %4d tensors %,15d params %12s%s%n", e.getKey(), e.getValue()[0],
                        e.getValue()[1], bytes(e.getValue()[2]),
                        e.getKey().isSupportedForCompute() ? "" : "  (not supported for compute)");
            }
            System.out.printf("  total   %4d tensors %,15d params %12s%n", gguf.tensors().size(),
                    byType.values().stream().mapToLong(a -> a[1]).sum(), bytes(total));
            if (metadata) {
                System.out.println("metadata:");
                for (Map.Entry<String, GgufValue> e : gguf.metadata().asMap().entrySet()) {
                    System.out.printf("  %-45s %s%n", e.getKey(), e.getValue());
                }
            }
            if (tensors) {
                System.out.println("tensors:");
                for (GgufTensorInfo t : gguf.tensors()) {
                    System.out.printf("  %-40s %-6s %-22s %s%n", t.name(), t.type(), Arrays.toString(t.dimensions()),
                            bytes(t.byteSize()));
                }
            }
        }
        return 0;
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format("%.2f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format("%.2f MiB", n / (double) (1L << 20));
        }
        if (n >= 1L << 10) {
            return String.format("%.1f KiB", n / 1024.0);
        }
        return n + " B";
    }
}
