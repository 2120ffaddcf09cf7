package dev.gale.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Reductions across a work-group through local memory (a tree over {@code L} threads, {@code L} a power of two).
 * Every thread of the group must call them (they contain barriers), at the kernel's top level (not inside a branch
 * or loop: each allocates its own local array, which OpenCL declares at kernel scope), and every thread gets the
 * result.
 *
 * <p>Each reduction allocates its local array itself rather than taking the kernel's: TornadoVM 5.2 indexes a local
 * array that is passed into a method as if it were a Java array in the heap (element {@code i} at
 * {@code 4i + 16}), which on a work-group of 128 runs past a 256-element array (Oclgrind: "Index (256) exceeds
 * static array size"; NVIDIA: CL_OUT_OF_RESOURCES). A local array must only be indexed in the method that
 * allocates it.
 */
public final class GroupReductions {
    /** Work-group size limit of every kernel: the size of the local scratch arrays. */
    public static final int MAX_GROUP = 256;

    private GroupReductions() {}

    public static float sum(KernelContext c, float value) {
        float[] scratch = c.allocateFloatLocalArray(MAX_GROUP);
        int t = c.localIdx;
        scratch[t] = value;
        c.localBarrier();
        for (int stride = c.localGroupSizeX / 2; stride > 0; stride >>= 1) {
            if (t < stride) {
                scratch[t] += scratch[t + stride];
            }
            c.localBarrier();
        }
        return scratch[0];
    }

    public static float max(KernelContext c, float value) {
        float[] scratch = c.allocateFloatLocalArray(MAX_GROUP);
        int t = c.localIdx;
        scratch[t] = value;
        c.localBarrier();
        for (int stride = c.localGroupSizeX / 2; stride > 0; stride >>= 1) {
            if (t < stride) {
                scratch[t] = TornadoMath.max(scratch[t], scratch[t + stride]);
            }
            c.localBarrier();
        }
        return scratch[0];
    }

    /** {@code 1 / sqrt(mean(x²) + eps)} over {@code x[0..n)}: the RMSNorm scale. */
    public static float rmsScale(KernelContext c, FloatArray x, int n, float eps) {
        float ss = 0f;
        for (int j = c.localIdx; j < n; j += c.localGroupSizeX) {
            float v = x.get(j);
            ss += v * v;
        }
        float total = sum(c, ss);
        return 1f / TornadoMath.sqrt(total / n + eps);
    }
}
