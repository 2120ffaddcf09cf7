package dev.gale.tornado;

import dev.gale.model.Model;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.backend.TokenWork;
import dev.gale.runtime.load.ModelLoader;
import dev.gale.tornado.plan.DecodePlan;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decode speed of the TornadoVM backend on one model and device (a benchmark, not a test): load and compile
 * time, prefill, greedy decoding with the argmax on the device, and decoding that brings the logits back for
 * sampling. Prints one line of {@code key=value} pairs, with the share of the memory-bandwidth roofline that
 * the greedy rate reaches (weight bytes read per token × tokens/s ÷ the peak given), and one profiled step: the
 * kernels' own device time per token (and the roofline share at that rate) against the step's.
 *
 * <p>{@code java <TornadoVM flags> ... dev.gale.tornado.DecodeBenchmark MODEL.gguf DEVICE PEAK_BYTES_PER_S [TOKENS
 * [PROMPT [CONTEXT]]]} (defaults 128 tokens, a 16-token prompt, a 1024-position cache): a long prompt measures
 * decoding deep into the context, e.g. the split attention ({@code -Dgale.tornado.attentionSplits}).
 */
final class DecodeBenchmark {
    private static final int DEFAULT_PROMPT = 16;
    private static final int DEFAULT_CONTEXT = 1024;
    /** Steps run before timing, so that the JIT has compiled TornadoVM's host-side interpreter loop. */
    private static final int WARMUP = 32;
    /** A task's entry in TornadoVM's profile log (a line such as <code>"decode.l3_qkv": &#123;</code>) and its kernel time. */
    private static final Pattern TASK = Pattern.compile("^\\s*\"[^\"]*\\.([^\".]+)\": \\{\\s*$");
    private static final Pattern KERNEL_TIME = Pattern.compile("\"TASK_KERNEL_TIME\": \"(\\d+)\"");

    private DecodeBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: DecodeBenchmark MODEL.gguf DEVICE PEAK_BYTES_PER_S [TOKENS [PROMPT [CONTEXT]]]");
            System.exit(2);
        }
        Path path = Path.of(args[0]);
        int device = Integer.parseInt(args[1]);
        double peak = Double.parseDouble(args[2]);
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int promptLength = args.length > 4 ? Integer.parseInt(args[4]) : DEFAULT_PROMPT;
        int contextWanted = args.length > 5 ? Integer.parseInt(args[5]) : DEFAULT_CONTEXT;
        TornadoBackendProvider provider = new TornadoBackendProvider();
        if (provider.unavailableReason() != null) {
            throw new IllegalStateException(provider.unavailableReason());
        }
        long t0 = System.nanoTime();
        try (Model model = ModelLoader.load(path, false, System.err)) {
            long t1 = System.nanoTime();
            int context = Math.min(contextWanted, model.config().contextLength());
            try (InferenceEngine engine = provider.load(model, new BackendOptions(0, device, context));
                 InferenceSession session = engine.newSession(context)) {
                long t2 = System.nanoTime();
                int[] prompt = new int[promptLength];
                for (int i = 0; i < promptLength; i++) {
                    prompt[i] = 1 + i % 1000;
                }
                session.forward(prompt, false);
                long t3 = System.nanoTime();
                int next = 1;
                for (int i = 0; i < WARMUP; i++) {
                    next = session.decodeGreedy(next);
                }
                long t4 = System.nanoTime();
                for (int i = 0; i < tokens; i++) {
                    next = session.decodeGreedy(next);
                }
                long t5 = System.nanoTime();
                int sampled = Math.min(32, tokens);
                for (int i = 0; i < sampled; i++) {
                    session.decode(next);
                }
                long t6 = System.nanoTime();
                DecodePlan plan = ((TornadoInferenceEngine) engine).plan();
                DecodePlan.StepProfile profile = plan.profileStep(next, session.position());

                double greedy = tokens / ((t5 - t4) / 1e9);
                double withLogits = sampled / ((t6 - t5) / 1e9);
                long bytesPerToken = model.weights().bytesPerToken();
                TokenWork work = engine.workPerToken().orElseThrow();
                // under a CUDA graph TornadoVM does not time the kernels one by one (it reports 0)
                boolean kernelTimed = profile.kernelNanos() > 0;
                System.out.printf("bench model=%s device=\"%s\" prompt_tokens=%d context=%d cuda_graph=%b "
                                + "launches_per_token=%d transfers_per_token=%d read_s=%.1f load_compile_upload_s=%.1f "
                                + "prefill_tok_s=%.1f "
                                + "decode_tok_s=%.1f decode_with_logits_tok_s=%.1f ms_per_token=%.2f "
                                + "weight_bytes_per_token=%d effective_GB_s=%.1f roofline_fraction=%.3f "
                                + "profiled_kernel_ms=%s profiled_step_ms=%.3f kernel_roofline_fraction=%s%n",
                        path.getFileName(), engine.deviceName(), promptLength, context, plan.usesCudaGraph(),
                        work.kernelLaunches(), work.hostDeviceTransfers(), (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                        promptLength / ((t3 - t2) / 1e9),
                        greedy, withLogits, 1000 / greedy, bytesPerToken, bytesPerToken * greedy / 1e9,
                        bytesPerToken * greedy / peak,
                        kernelTimed ? String.format("%.3f", profile.kernelNanos() / 1e6) : "n/a",
                        profile.stepNanos() / 1e6,
                        kernelTimed ? String.format("%.3f", bytesPerToken / (profile.kernelNanos() / 1e9) / peak) : "n/a");
                StringBuilder kinds = new StringBuilder("kernels");
                kernelNanosByKind(profile.log()).entrySet().stream()
                        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                        .forEach(e -> kinds.append(String.format(" %s=%.3fms", e.getKey(), e.getValue() / 1e6)));
                System.out.println(kinds);
            }
        }
    }

    /**
     * Device time per kind of kernel in a TornadoVM profile log: tasks {@code l<N>_<kind>} of every layer are
     * added up under {@code <kind>}, the others ({@code embed}, {@code logits}, {@code argmax}) stand alone.
     */
    static Map<String, Long> kernelNanosByKind(String log) {
        Map<String, Long> byKind = new LinkedHashMap<>();
        String kind = null;
        for (String line : log.split("\n")) {
            Matcher task = TASK.matcher(line);
            if (task.matches()) {
                kind = task.group(1).replaceFirst("^l\\d+_", "");
                continue;
            }
            Matcher time = KERNEL_TIME.matcher(line);
            if (kind != null && time.find()) {
                byKind.merge(kind, Long.parseLong(time.group(1)), Long::sum);
            }
        }
        return byKind;
    }
}
