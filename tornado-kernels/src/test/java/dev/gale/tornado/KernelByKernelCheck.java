package dev.gale.tornado;

import dev.gale.model.Model;
import dev.gale.runtime.backend.BackendOptions;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.backend.Logits;
import dev.gale.runtime.cpu.CpuBackendProvider;
import dev.gale.tornado.plan.DecodeStep;
import dev.gale.tornado.plan.LaunchGeometry;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * Finds the first kernel of a decoding step that fails or computes wrongly on a device (a diagnostic, not a
 * test). Runs the step's kernels one at a time, each as its own task graph that copies its arrays in and out,
 * so each kernel is waited for and its error is its own; and runs each kernel on the host as well
 * ({@link HostWorkGroups}, from the same inputs) and compares every array the two wrote. Stops at the first
 * kernel that throws or differs, printing its name, geometry and the difference; at the end compares the logits
 * with the CPU backend's for the same tokens.
 *
 * <p>{@code java <TornadoVM flags> ... dev.gale.tornado.KernelByKernelCheck MODEL.gguf DEVICE [STEPS] [options]}
 * <ul>
 *   <li>{@code --gpu-geometry}: the work-group sizes of a GPU even on a CPU device (to check GPU geometry on PoCL
 *       or Oclgrind);</li>
 *   <li>{@code --no-host}: only run the kernels on the device (large models, whose host run would take long).</li>
 * </ul>
 * Exit status 0 when every kernel agrees, 1 at the first failure.
 */
final class KernelByKernelCheck {
    /** Allowed difference, relative to the largest magnitude in the array (float summation order, fma). */
    private static final double TOLERANCE = 1e-4;
    /**
     * Numbers the checks run in this JVM: TornadoVM caches what it compiled by graph and task name, so a second
     * check (another model) must not reuse the first one's graph names.
     */
    private static final AtomicInteger RUNS = new AtomicInteger();

    private KernelByKernelCheck() {}

    public static void main(String[] args) throws Exception {
        List<String> positional = new ArrayList<>();
        boolean gpuGeometry = false;
        boolean host = true;
        for (String a : args) {
            switch (a) {
                case "--gpu-geometry" -> gpuGeometry = true;
                case "--no-host" -> host = false;
                default -> positional.add(a);
            }
        }
        if (positional.size() < 2) {
            System.err.println("usage: KernelByKernelCheck MODEL.gguf DEVICE [STEPS] [--gpu-geometry] [--no-host]");
            System.exit(2);
        }
        Path path = Path.of(positional.get(0));
        int steps = positional.size() > 2 ? Integer.parseInt(positional.get(2)) : 2;
        String unavailable = new TornadoBackendProvider().unavailableReason();
        if (unavailable != null) {
            throw new IllegalStateException(unavailable);
        }
        TornadoDevice device = TornadoDevices.get(Integer.parseInt(positional.get(1)));
        long[] maxGroup = device.getDeviceMaxWorkgroupDimensions();
        LaunchGeometry geometry = LaunchGeometry.forDevice(gpuGeometry || TornadoDevices.isGpu(device),
                maxGroup != null && maxGroup.length > 0 ? maxGroup[0] : 1);
        System.out.println("device " + TornadoDevices.name(device) + ", " + geometry);
        try (Model model = Model.open(path)) {
            String problem = firstProblem(model, device, geometry, steps, host, System.out);
            System.out.println(problem == null ? "KERNEL CHECK OK" : problem + "\nKERNEL CHECK FAILED");
            System.exit(problem == null ? 0 : 1);
        }
    }

    /**
     * Runs {@code steps} decoding steps kernel by kernel on {@code device} (and on the host when {@code host}),
     * printing progress to {@code out}. Returns the first kernel that failed or differed, or null.
     */
    static String firstProblem(Model model, TornadoDevice device, LaunchGeometry geometry, int steps, boolean host,
                               PrintStream out) throws Exception {
        int[] tokens = new int[steps];
        for (int i = 0; i < steps; i++) {
            tokens[i] = (1 + 97 * i) % model.config().vocabSize();
        }
        DecodeStep step = new DecodeStep(model.config(), model.weights(), Math.max(steps, 16), geometry);
        List<DecodeStep.Launch> launches = step.launches();
        List<TornadoExecutionPlan> plans = new ArrayList<>();
        try {
            int run = RUNS.incrementAndGet();
            for (int k = 0; k < launches.size(); k++) {
                plans.add(planOf("check" + run + "k" + k, launches.get(k), device));
            }
            for (int position = 0; position < steps; position++) {
                step.set(tokens[position], position);
                for (int k = 0; k < launches.size(); k++) {
                    DecodeStep.Launch launch = launches.get(k);
                    String where = String.format("step %d, kernel %d/%d %s (global %d, local %d)", position, k + 1,
                            launches.size(), launch.name(), launch.global(), launch.local());
                    List<TornadoNativeArray> arrays = arraysOf(launch);
                    Map<Object, Object> expected = Map.of();
                    if (host) {
                        try {
                            expected = hostRun(launch, arrays);
                        } catch (Exception e) {
                            return where + " FAILED on the host (the kernel's own Java code): " + e;
                        }
                    }
                    try {
                        plans.get(k).execute();
                    } catch (RuntimeException e) {
                        e.printStackTrace(out);
                        return where + " FAILED on the device: " + e;
                    }
                    for (int a = 0; a < arrays.size(); a++) {
                        String difference = compare(arrays.get(a), expected.get(arrays.get(a)));
                        if (difference != null) {
                            return where + " DIFFERS from the host in argument array " + a + " ("
                                    + arrays.get(a).getClass().getSimpleName() + "[" + arrays.get(a).getSize()
                                    + "]): " + difference;
                        }
                    }
                }
                out.printf("step %d: all %d kernels ran%s%n", position, launches.size(),
                        host ? " and agree with the host" : "");
            }
            compareWithCpu(model, tokens, step.logits(), out);
            return null;
        } finally {
            for (TornadoExecutionPlan p : plans) {
                p.close();
            }
        }
    }

    /** A plan of the one kernel: its arrays copied in, the kernel, its arrays copied out, on every execution. */
    private static TornadoExecutionPlan planOf(String graphName, DecodeStep.Launch launch, TornadoDevice device) {
        Object[] arrays = arraysOf(launch).toArray();
        TaskGraph graph = new TaskGraph(graphName)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, arrays)
                .addTask(launch.task())
                .transferToHost(DataTransferMode.EVERY_EXECUTION, arrays);
        TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot());
        plan.withDevice(device).withGridScheduler(new GridScheduler(graphName + "." + launch.name(), launch.grid()));
        return plan;
    }

    /** The launch's array arguments, each once. */
    private static List<TornadoNativeArray> arraysOf(DecodeStep.Launch launch) {
        Map<Object, Boolean> seen = new IdentityHashMap<>();
        List<TornadoNativeArray> arrays = new ArrayList<>();
        for (Object p : launch.task().getTaskParameters()) {
            if (p instanceof TornadoNativeArray a && seen.put(a, true) == null) {
                arrays.add(a);
            }
        }
        return arrays;
    }

    /** Runs the launch on the host over copies of its float and int arrays; returns original → result. */
    private static Map<Object, Object> hostRun(DecodeStep.Launch launch, List<TornadoNativeArray> arrays)
            throws Exception {
        Map<Object, Object> copies = new IdentityHashMap<>();
        for (TornadoNativeArray a : arrays) {
            if (a instanceof FloatArray f) {
                FloatArray c = new FloatArray(f.getSize());
                MemorySegment.copy(f.getSegment(), 0, c.getSegment(), 0, f.getNumBytesOfSegment());
                copies.put(a, c);
            } else if (a instanceof IntArray i) {
                IntArray c = new IntArray(i.getSize());
                MemorySegment.copy(i.getSegment(), 0, c.getSegment(), 0, i.getNumBytesOfSegment());
                copies.put(a, c);
            }
        }
        HostWorkGroups.run(launch, copies);
        return copies;
    }

    /** Null when {@code device} matches {@code host} (or there is no host result), else the first difference. */
    private static String compare(TornadoNativeArray device, Object host) {
        if (device instanceof FloatArray d && host instanceof FloatArray h) {
            double scale = 0;
            for (int i = 0; i < h.getSize(); i++) {
                scale = Math.max(scale, Math.abs(h.get(i)));
            }
            double allowed = TOLERANCE * Math.max(scale, 1e-6);
            for (int i = 0; i < h.getSize(); i++) {
                float dv = d.get(i);
                float hv = h.get(i);
                if (Float.isNaN(dv) != Float.isNaN(hv) || Math.abs(dv - hv) > allowed) {
                    return String.format("first at [%d]: device %s, host %s (allowed %.3g)", i, dv, hv, allowed);
                }
            }
        } else if (device instanceof IntArray d && host instanceof IntArray h) {
            for (int i = 0; i < h.getSize(); i++) {
                if (d.get(i) != h.get(i)) {
                    return String.format("first at [%d]: device %d, host %d", i, d.get(i), h.get(i));
                }
            }
        }
        return null;
    }

    /** The CPU backend's logits for the same tokens against the device's last ones (printed, for scale). */
    private static void compareWithCpu(Model model, int[] tokens, FloatArray logits, PrintStream out) throws Exception {
        try (InferenceEngine cpu = new CpuBackendProvider().load(model, new BackendOptions(1, 0, Math.max(tokens.length, 16)));
             InferenceSession session = cpu.newSession(Math.max(tokens.length, 16))) {
            float[] expected = session.forward(tokens, false);
            double max = 0;
            for (int i = 0; i < expected.length; i++) {
                max = Math.max(max, Math.abs(expected[i] - logits.get(i)));
            }
            float[] device = new float[expected.length];
            MemorySegment.copy(logits.getSegment(), ValueLayout.JAVA_FLOAT, 0, device, 0, device.length);
            out.printf("last logits against the CPU backend: max |Δ| %.3g, argmax device %d, cpu %d%n", max,
                    Logits.argmax(device), Logits.argmax(expected));
        }
    }
}
