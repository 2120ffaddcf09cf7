package dev.gale.tornado.plan;

import dev.gale.model.config.ModelConfig;
import dev.gale.model.config.RopeLayout;
import dev.gale.model.weights.ModelWeights;
import dev.gale.tornado.kernels.TransformerKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TaskPackage;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The kernels of one decoding step of a model, in order, with their arrays and launch geometry: the embedding
 * lookup, every layer's kernels unrolled, the logits and the argmax. Host-side only; {@link DecodePlan} runs them
 * as one task graph, a diagnostic may run them one by one.
 */
public final class DecodeStep {
    /** Work-groups of the argmax's first stage (each of {@code singleGroup} threads). */
    static final int ARGMAX_GROUPS = 64;
    /** One kernel launch: the task (kernel and arguments) and its 1-D geometry. */
    public record Launch(String name, TaskPackage task, int global, int local) {
        public WorkerGrid1D grid() {
            WorkerGrid1D grid = new WorkerGrid1D(global);
            grid.setLocalWork(local, 1, 1);
            return grid;
        }
    }

    /** The step's inputs {@code [token, position]}. */
    final IntArray state = new IntArray(2);
    /** The argmax of the logits. */
    final IntArray result = new IntArray(1);
    final FloatArray logits;
    /** Every array that stays on the device between steps: weights, KV cache, activations. */
    final List<Object> resident;
    final List<Launch> launches;

    public DecodeStep(ModelConfig c, ModelWeights modelWeights, int capacity, LaunchGeometry g) {
        DeviceWeights weights = new DeviceWeights(c, modelWeights);
        this.logits = new FloatArray(c.vocabSize());
        FloatArray x = new FloatArray(c.dim());
        FloatArray xw = new FloatArray(c.dim());
        FloatArray q = new FloatArray(c.qDim());
        FloatArray attnOut = new FloatArray(c.heads() * c.valueDim());
        FloatArray hidden = new FloatArray(c.ffnDim());
        FloatArray delta = new FloatArray(c.dim());
        FloatArray scores = new FloatArray(c.heads() * capacity);
        FloatArray groupValues = new FloatArray(ARGMAX_GROUPS);
        IntArray groupIndices = new IntArray(ARGMAX_GROUPS);
        FloatArray bestValue = new FloatArray(1);
        IntArray noIndices = new IntArray(1);
        int splits = g.attentionSplits();
        FloatArray splitOut = new FloatArray(splitFloats(c, splits));
        FloatArray[] keys = new FloatArray[c.layers()];
        FloatArray[] values = new FloatArray[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            keys[l] = new FloatArray(capacity * c.kvDim());
            values[l] = new FloatArray(capacity * c.vDim());
        }

        KernelContext ctx = new KernelContext();
        List<Object> resident = new ArrayList<>(weights.arrays());
        resident.addAll(List.of(x, xw, q, attnOut, hidden, delta, scores, logits, groupValues, groupIndices, bestValue,
                noIndices, splitOut));
        resident.addAll(List.of(keys));
        resident.addAll(List.of(values));
        this.resident = List.copyOf(resident);
        Tasks tasks = new Tasks();

        FloatArray pow2 = weights.powersOfTwo;
        int dim = c.dim();
        float eps = c.rmsEps();
        int neox = c.architecture().ropeLayout() == RopeLayout.NEOX ? 1 : 0;
        boolean headNorm = modelWeights.layers().get(0).qNorm() != null;
        float embScale = c.architecture().isGemma() ? (float) Math.sqrt(dim) : 1f;
        int gelu = c.architecture().isGemma() ? 1 : 0;
        int qkvRows = c.qDim() + c.kvDim() + c.vDim();
        float attnScale = (float) (1.0 / Math.sqrt(c.headDim()));

        tasks.add("embed", roundUp(dim, g.elementGroup()), g.elementGroup(), id -> TaskPackage.createPackage(id,
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
            tasks.add(p + "qkv", qkvRows / 2 * g.rowGroup(), g.rowGroup(), id -> TaskPackage.createPackage(id,
                    TransformerKernels::attentionInput, ctx, x, xw, w.qkv().words(), w.qkvBias(), q, kc, vc,
                    state, weights.ropeDivisors, pow2, w.qkv().type(), c.qDim(), c.kvDim(), c.vDim(), c.headDim(),
                    ropeInQkv, neox, eps, thetaScale));
            if (headNorm) {
                FloatArray qNorm = w.qNorm();
                FloatArray kNorm = w.kNorm();
                tasks.add(p + "qknorm", (c.heads() + c.kvHeads()) * g.attentionGroup(), g.attentionGroup(),
                        id -> TaskPackage.createPackage(id, TransformerKernels::headNormRope, ctx, q, kc, state, qNorm, kNorm,
                                weights.ropeDivisors, c.heads(), c.headDim(), c.ropeDim(), neox, c.kvDim(), eps,
                                thetaScale));
            }
            int window = local ? c.slidingWindow() : 0;
            tasks.add(p + "attn", c.heads() * splits * g.attentionGroup(), g.attentionGroup(),
                    id -> TaskPackage.createPackage(id, TransformerKernels::attention, ctx, q, kc, vc, scores, attnOut,
                            splitOut, state, c.headDim(), c.valueDim(), c.kvDim(), c.vDim(), c.groupSize(), capacity,
                            attnScale, c.attnSoftcap(), window, splits));
            if (splits > 1) {
                tasks.add(p + "attn_merge", c.heads() * g.attentionGroup(), g.attentionGroup(),
                        id -> TaskPackage.createPackage(id, TransformerKernels::attentionMerge, ctx, splitOut, attnOut,
                                c.valueDim(), splits));
            }
            addResidual(tasks, p + "wo", attnOut, w.wo(), w.postAttnNorm(), w.ffnNorm(), x, xw, delta, pow2, ctx, g, eps);
            tasks.add(p + "ffn", c.ffnDim() * g.rowGroup(), g.rowGroup(), id -> TaskPackage.createPackage(id,
                    TransformerKernels::feedForwardInput, ctx, x, xw, w.gateUp().words(), hidden, pow2,
                    w.gateUp().type(), c.ffnDim(), eps, gelu));
            addResidual(tasks, p + "down", hidden, w.down(), w.postFfnNorm(), nextNorm, x, xw, delta, pow2, ctx, g, eps);
        }
        tasks.add("logits", c.vocabSize() * g.rowGroup(), g.rowGroup(), id -> TaskPackage.createPackage(id,
                TransformerKernels::logits, ctx, x, xw, weights.output.words(), logits, pow2,
                weights.output.type(), eps, c.finalSoftcap()));
        // first stage over the logits (its indices argument is not read: fromIndices = 0; an array of its own, as
        // TornadoVM must not see one array twice in a task), then one group
        tasks.add("argmax_groups", ARGMAX_GROUPS * g.singleGroup(), g.singleGroup(), id -> TaskPackage.createPackage(id,
                TransformerKernels::argmax, ctx, logits, noIndices, 0, groupValues, groupIndices));
        tasks.add("argmax", g.singleGroup(), g.singleGroup(), id -> TaskPackage.createPackage(id,
                TransformerKernels::argmax, ctx, groupValues, groupIndices, 1, bestValue, result));
        this.launches = List.copyOf(tasks.launches);
    }

    public List<Launch> launches() {
        return launches;
    }

    /** The logits the step's {@code logits} kernel writes. */
    public FloatArray logits() {
        return logits;
    }

    /** Sets the step's token and position (the {@code state} every kernel reads). */
    public void set(int token, int position) {
        state.set(0, token);
        state.set(1, position);
    }

    /**
     * x += w · in, or with a post-norm (gemma) x += rmsNorm(w · in) · postNorm; either way xw = x ⊙ nextNorm for
     * the product that follows.
     */
    private static void addResidual(Tasks tasks, String name, FloatArray in, PackedMatrix w, FloatArray postNorm,
                                    FloatArray nextNorm, FloatArray x, FloatArray xw, FloatArray delta,
                                    FloatArray pow2, KernelContext ctx, LaunchGeometry g, float eps) {
        if (postNorm == null) {
            tasks.add(name, w.rows() * g.rowGroup(), g.rowGroup(), id -> TaskPackage.createPackage(id, TransformerKernels::projectAdd,
                    ctx, in, w.words(), x, xw, nextNorm, pow2, w.type(), w.cols()));
        } else {
            tasks.add(name, w.rows() * g.rowGroup(), g.rowGroup(), id -> TaskPackage.createPackage(id, TransformerKernels::project,
                    ctx, in, w.words(), delta, pow2, w.type(), w.cols()));
            tasks.add(name + "_norm", g.singleGroup(), g.singleGroup(), id -> TaskPackage.createPackage(id, TransformerKernels::normAdd, ctx,
                    delta, postNorm, x, xw, nextNorm, eps));
        }
    }

    /** Floats of the split attention's partial results: per head and split, the value sum, its maximum and total. */
    static int splitFloats(ModelConfig c, int splits) {
        return c.heads() * splits * (c.valueDim() + 2);
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /** Collects the launches in order. */
    private static final class Tasks {
        final List<Launch> launches = new ArrayList<>();

        /** Adds {@code task} (made from the task's name) with {@code global} threads in groups of {@code local}. */
        void add(String name, int global, int local, Function<String, TaskPackage> task) {
            launches.add(new Launch(name, task.apply(name), global, local));
        }
    }
}
