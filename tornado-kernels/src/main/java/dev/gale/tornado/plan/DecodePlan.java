package dev.gale.tornado.plan;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.weights.ModelWeights;
import dev.gale.runtime.backend.TokenWork;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.TornadoProfilerResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * One decoding step of the whole model ({@link DecodeStep}) as a single TornadoVM task graph. The weights go to the device on the first execution and stay
 * there, as do the KV cache and the activations; per step only {@code [token, position]} goes in and the chosen
 * id comes out (the logits too, on request). Kernels are compiled before the first step. On TornadoVM's PTX backend
 * the step runs as a CUDA graph ({@link CudaGraphs}): captured on the first execution, then one launch per token.
 */
public final class DecodePlan implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DecodePlan.class);
    private static final String GRAPH = "decode";
    private final TornadoExecutionPlan plan;
    private final DecodeStep step;
    private final long deviceBytes;
    private final boolean cudaGraph;

    public DecodePlan(ModelConfig c, ModelWeights modelWeights, int capacity, TornadoDevice device, LaunchGeometry g) {
        long start = System.nanoTime();
        this.step = new DecodeStep(c, modelWeights, capacity, g);
        this.deviceBytes = Stream.concat(step.resident.stream(), Stream.of(step.state, step.result))
                .mapToLong(a -> ((TornadoNativeArray) a).getNumBytesOfSegmentWithHeader()).sum();
        TaskGraph graph = new TaskGraph(GRAPH)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, step.state)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, step.resident.toArray());
        GridScheduler grids = new GridScheduler();
        for (DecodeStep.Launch launch : step.launches) {
            graph.addTask(launch.task());
            grids.addWorkerGrid(GRAPH + "." + launch.name(), launch.grid());
        }
        graph.transferToHost(DataTransferMode.EVERY_EXECUTION, step.result)
                .transferToHost(DataTransferMode.UNDER_DEMAND, step.logits);

        this.plan = new TornadoExecutionPlan(graph.snapshot());
        plan.withDevice(device).withGridScheduler(grids);
        this.cudaGraph = CudaGraphs.use(device);
        if (cudaGraph) {
            // before the pre-compilation, which builds the graph's bytecode (with or without the capture)
            plan.withCUDAGraph();
        }
        plan.withPreCompilation();
        long compiled = System.nanoTime();
        step(0, 0, null);
        LOG.info("decode plan: {} kernels compiled in {} ms, weights uploaded in {} ms; per token {} launches, {} "
                        + "transfers{}", step.launches.size(), (compiled - start) / 1_000_000,
                (System.nanoTime() - compiled) / 1_000_000, step.launches.size(),
                stepWork(false).hostDeviceTransfers(), cudaGraph ? ", as one CUDA graph" : "");
    }

    /**
     * Runs one step for {@code token} at {@code position}. Returns the argmax of the logits; copies the logits
     * into {@code logitsOut} (from {@code offset}) when it is not null.
     */
    public int step(int token, int position, float[] logitsOut, int offset) {
        step.set(token, position);
        TornadoExecutionResult r = plan.execute();
        if (logitsOut != null) {
            r.transferToHost(step.logits);
            MemorySegment.copy(step.logits.getSegment(), ValueLayout.JAVA_FLOAT, 0, logitsOut, offset,
                    step.logits.getSize());
        }
        return step.result.get(0);
    }

    public int step(int token, int position, float[] logitsOut) {
        return step(token, position, logitsOut, 0);
    }

    /**
     * Times of one step as TornadoVM's profiler measures them: the kernels' device time and the whole step. The
     * profiler waits for each kernel, so the step is slower than an unprofiled one; the kernel time is what the
     * device itself spends, which the step's other time is overhead around. {@code log} is TornadoVM's profile of
     * the step as it reports it (JSON, one entry per task with its own kernel time).
     */
    public record StepProfile(long kernelNanos, long stepNanos, String log) {
    }

    /** Runs one step (as {@link #step}) with TornadoVM's profiler on. */
    public StepProfile profileStep(int token, int position) {
        plan.withProfiler(ProfilerMode.SILENT);
        try {
            step.set(token, position);
            TornadoProfilerResult p = plan.execute().getProfilerResult();
            return new StepProfile(p.getDeviceKernelTime(), p.getTotalTime(), p.getProfileLog());
        } finally {
            plan.withoutProfiler();
        }
    }

    /** True when each step is a launch of the CUDA graph captured on the first step. */
    public boolean usesCudaGraph() {
        return cudaGraph;
    }

    /** Bytes of every array the plan keeps on the device (weights, KV cache, activations). */
    public long deviceBytes() {
        return deviceBytes;
    }

    /** Launches and transfers of one step: {@code [token, position]} in, the id out, and the logits if wanted. */
    public TokenWork stepWork(boolean withLogits) {
        return new TokenWork(step.launches.size(), withLogits ? 3 : 2);
    }

    @Override
    public void close() {
        try {
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException("could not free the device memory of the decode plan: " + e.getMessage(), e);
        }
    }
}
