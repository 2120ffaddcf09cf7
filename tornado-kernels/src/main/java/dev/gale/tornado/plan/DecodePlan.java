package dev.gale.tornado.plan;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.config.RopeLayout;
import dev.gale.model.weights.ModelWeights;
import dev.gale.runtime.backend.TokenWork;
import dev.gale.tornado.kernels.TransformerKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.TornadoProfilerResult;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * One decoding step of the whole model as a single TornadoVM task graph: the embedding lookup, every layer's
 * kernels unrolled, the logits and the argmax. The weights go to the device on the first execution and stay
 * there, as do the KV cache and the activations; per step only {@code [token, position]} goes in and the chosen
 * id comes out (the logits too, on request). Kernels are compiled before the first step.
 */
public final class DecodePlan implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DecodePlan.class);
    private static final String GRAPH = "decode";
    /**
     * TornadoVM sizes each graph's bytecode buffer from this property (4 KiB by default, too small for a whole
     * model's tasks), reading it once when the first graph is built. Set it unless the user did.
     */
    private static final String BYTECODE_BUFFER = "tornado.tvm.maxbytecodesize";

    static {
        if (System.getProperty(BYTECODE_BUFFER) == null) {
            System.setProperty(BYTECODE_BUFFER, String.valueOf(1 << 20));
        }
    }

    private final TornadoExecutionPlan plan;
    private final IntArray state = new IntArray(2);
    private final IntArray result = new IntArray(1);
    private final FloatArray logits;
    private final int launches;
    private final DeviceWeights weights;
    private final long deviceBytes;

    public DecodePlan(ModelConfig c, ModelWeights modelWeights, int capacity, TornadoDevice device, LaunchGeometry g) {
        long start = System.nanoTime();
        this.weights = new DeviceWeights(c, modelWeights);
        this.logits = new FloatArray(c.vocabSize());
        FloatArray x = new FloatArray(c.dim());
        FloatArray xw = new FloatArray(c.dim());
        FloatArray q = new FloatArray(c.qDim());
        FloatArray attnOut = new FloatArray(c.heads() * c.valueDim());
        FloatArray hidden = new FloatArray(c.ffnDim());
        FloatArray delta = new FloatArray(c.dim());
        FloatArray scores = new FloatArray(c.heads() * capacity);
        FloatArray[] keys = new FloatArray[c.layers()];
        FloatArray[] values = new FloatArray[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            keys[l] = new FloatArray(capacity * c.kvDim());
            values[l] = new FloatArray(capacity * c.vDim());
        }

        KernelContext ctx = new KernelContext();
        GridScheduler grids = new GridScheduler();
        List<Object> resident = new ArrayList<>(weights.arrays());
        resident.addAll(List.of(x, xw, q, attnOut, hidden, delta, scores, logits));
        resident.addAll(List.of(keys));
        resident.addAll(List.of(values));
        this.deviceBytes = Stream.concat(resident.stream(), Stream.of(state, result))
                .mapToLong(a -> ((TornadoNativeArray) a).getNumBytesOfSegmentWithHeader()).sum();
        TaskGraph graph = new TaskGraph(GRAPH)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, state)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, resident.toArray());
        Tasks tasks = new Tasks(graph, grids);

        FloatArray pow2 = weights.powersOfTwo;
        int dim = c.dim();
        float eps = c.rmsEps();
        int neox = c.architecture().ropeLayout() == RopeLayout.NEOX ? 1 : 0;
        boolean headNorm = modelWeights.layers().get(0).qNorm() != null;
        float embScale = c.architecture().isGemma() ? (float) Math.sqrt(dim) : 1f;
        int gelu = c.architecture().isGemma() ? 1 : 0;
        int qkvRows = c.qDim() + c.kvDim() + c.vDim();
        float attnScale = (float) (1.0 / Math.sqrt(c.headDim()));

        tasks.add("embed", roundUp(dim, g.elementGroup()), g.elementGroup(), (t, id) -> t.task(id,
                TransformerKernels::embed, ctx, state, weights.embedding.words(), x, xw, weights.layers[0].attnNorm(),
                pow2, weights.embedding.type(), dim, embScale));
        for (int l = 0; l < c.layers(); l++) {
            DeviceWeights.Layer w = weights.layers[l];
            FloatArray nextNorm = l + 1 < c.layers() ? weights.layers[l + 1].attnNorm() : weights.outputNorm;
            String p = "l" + l + "_";
            boolean local = c.isLocalLayer(l);
            float thetaScale = (float) Math.pow(local ? c.ropeBaseLocal() : c.ropeBase(), -2.0 / c.ropeDim());
            FloatArray kc = keys[l];
            FloatArray vc = values[l];
            int ropeInQkv = headNorm ? 0 : c.ropeDim();
            tasks.add(p + "qkv", qkvRows / 2 * g.rowGroup(), g.rowGroup(), (t, id) -> t.task(id,
                    TransformerKernels::attentionInput, ctx, x, xw, w.qkv().words(), w.qkvBias(), q, kc, vc,
                    state, weights.ropeDivisors, pow2, w.qkv().type(), c.qDim(), c.kvDim(), c.vDim(), c.headDim(),
                    ropeInQkv, neox, eps, thetaScale));
            if (headNorm) {
                FloatArray qNorm = w.qNorm();
                FloatArray kNorm = w.kNorm();
                tasks.add(p + "qknorm", (c.heads() + c.kvHeads()) * g.attentionGroup(), g.attentionGroup(),
                        (t, id) -> t.task(id, TransformerKernels::headNormRope, ctx, q, kc, state, qNorm, kNorm,
                                weights.ropeDivisors, c.heads(), c.headDim(), c.ropeDim(), neox, c.kvDim(), eps,
                                thetaScale));
            }
            int window = local ? c.slidingWindow() : 0;
            tasks.add(p + "attn", c.heads() * g.attentionGroup(), g.attentionGroup(), (t, id) -> t.task(id,
                    TransformerKernels::attention, ctx, q, kc, vc, scores, attnOut, state, c.headDim(), c.valueDim(),
                    c.kvDim(), c.vDim(), c.groupSize(), capacity, attnScale, c.attnSoftcap(), window));
            addResidual(tasks, p + "wo", attnOut, w.wo(), w.postAttnNorm(), w.ffnNorm(), x, xw, delta, pow2, ctx, g, eps);
            tasks.add(p + "ffn", c.ffnDim() * g.rowGroup(), g.rowGroup(), (t, id) -> t.task(id,
                    TransformerKernels::feedForwardInput, ctx, x, xw, w.gateUp().words(), hidden, pow2,
                    w.gateUp().type(), c.ffnDim(), eps, gelu));
            addResidual(tasks, p + "down", hidden, w.down(), w.postFfnNorm(), nextNorm, x, xw, delta, pow2, ctx, g, eps);
        }
        tasks.add("logits", c.vocabSize() * g.rowGroup(), g.rowGroup(), (t, id) -> t.task(id,
                TransformerKernels::logits, ctx, x, xw, weights.output.words(), logits, pow2,
                weights.output.type(), eps, c.finalSoftcap()));
        tasks.add("argmax", g.singleGroup(), g.singleGroup(), (t, id) -> t.task(id, TransformerKernels::argmax, ctx,
                logits, result));
        graph.transferToHost(DataTransferMode.EVERY_EXECUTION, result)
                .transferToHost(DataTransferMode.UNDER_DEMAND, logits);
        this.launches = tasks.count;

        this.plan = new TornadoExecutionPlan(graph.snapshot());
        plan.withDevice(device).withGridScheduler(grids).withPreCompilation();
        long compiled = System.nanoTime();
        step(0, 0, null);
        LOG.info("decode plan: {} kernels compiled in {} ms, weights uploaded in {} ms; per token {} launches, {} transfers",
                launches, (compiled - start) / 1_000_000, (System.nanoTime() - compiled) / 1_000_000, launches,
                stepWork(false).hostDeviceTransfers());
    }

    /**
     * x += w · in, or with a post-norm (gemma) x += rmsNorm(w · in) · postNorm; either way xw = x ⊙ nextNorm for
     * the product that follows.
     */
    private static void addResidual(Tasks tasks, String name, FloatArray in, PackedMatrix w, FloatArray postNorm,
                                    FloatArray nextNorm, FloatArray x, FloatArray xw, FloatArray delta,
                                    FloatArray pow2, KernelContext ctx, LaunchGeometry g, float eps) {
        if (postNorm == null) {
            tasks.add(name, w.rows() * g.rowGroup(), g.rowGroup(), (t, id) -> t.task(id, TransformerKernels::projectAdd,
                    ctx, in, w.words(), x, xw, nextNorm, pow2, w.type(), w.cols()));
        } else {
            tasks.add(name, w.rows() * g.rowGroup(), g.rowGroup(), (t, id) -> t.task(id, TransformerKernels::project,
                    ctx, in, w.words(), delta, pow2, w.type(), w.cols()));
            tasks.add(name + "_norm", g.singleGroup(), g.singleGroup(), (t, id) -> t.task(id, TransformerKernels::normAdd, ctx,
                    delta, postNorm, x, xw, nextNorm, eps));
        }
    }

    /**
     * Runs one step for {@code token} at {@code position}. Returns the argmax of the logits; copies the logits
     * into {@code logitsOut} (from {@code offset}) when it is not null.
     */
    public int step(int token, int position, float[] logitsOut, int offset) {
        state.set(0, token);
        state.set(1, position);
        TornadoExecutionResult r = plan.execute();
        if (logitsOut != null) {
            r.transferToHost(logits);
            MemorySegment.copy(logits.getSegment(), ValueLayout.JAVA_FLOAT, 0, logitsOut, offset, logits.getSize());
        }
        return result.get(0);
    }

    public int step(int token, int position, float[] logitsOut) {
        return step(token, position, logitsOut, 0);
    }

    /**
     * Times of one step as TornadoVM's profiler measures them: the kernels' device time and the whole step. The
     * profiler waits for each kernel, so the step is slower than an unprofiled one; the kernel time is what the
     * device itself spends, which the step's other time is overhead around.
     */
    public record StepProfile(long kernelNanos, long stepNanos) {
    }

    /** Runs one step (as {@link #step}) with TornadoVM's profiler on. */
    public StepProfile profileStep(int token, int position) {
        plan.withProfiler(ProfilerMode.SILENT);
        try {
            state.set(0, token);
            state.set(1, position);
            TornadoProfilerResult p = plan.execute().getProfilerResult();
            return new StepProfile(p.getDeviceKernelTime(), p.getTotalTime());
        } finally {
            plan.withoutProfiler();
        }
    }

    /** Bytes of every array the plan keeps on the device (weights, KV cache, activations). */
    public long deviceBytes() {
        return deviceBytes;
    }

    /** Launches and transfers of one step: {@code [token, position]} in, the id out, and the logits if wanted. */
    public TokenWork stepWork(boolean withLogits) {
        return new TokenWork(launches, withLogits ? 3 : 2);
    }

    @Override
    public void close() {
        try {
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException("could not free the device memory of the decode plan: " + e.getMessage(), e);
        }
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /** Adds tasks and their launch geometry, counting them. */
    private static final class Tasks {
        private final TaskGraph graph;
        private final GridScheduler grids;
        int count;

        Tasks(TaskGraph graph, GridScheduler grids) {
            this.graph = graph;
            this.grids = grids;
        }

        /** Adds {@code task} (given the graph and the task's name) with {@code global} threads in groups of {@code local}. */
        void add(String name, int global, int local, BiConsumer<TaskGraph, String> task) {
            task.accept(graph, name);
            WorkerGrid1D grid = new WorkerGrid1D(global);
            grid.setLocalWork(local, 1, 1);
            grids.addWorkerGrid(GRAPH + "." + name, grid);
            count++;
        }
    }
}
