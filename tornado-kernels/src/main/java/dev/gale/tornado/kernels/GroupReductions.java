package dev.gale.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Reductions across a work-group through local memory (a tree over {@code L} threads, {@code L} a power of two).
 * Every thread of the group must call them (they contain barriers) and every thread gets the result. The scratch
 * array is free again when they return.
 */
public final class GroupReductions {
    /** Work-group size limit of every kernel: the size of the local scratch arrays. */
    public static final int MAX_GROUP = 256;

    private GroupReductions() {}

    public static float sum(KernelContext c, float[] scratch, float value) {
        int t = c.localIdx;
        scratch[t] = value;
        c.localBarrier();
        for (int stride = c.localGroupSizeX / 2; stride > 0; stride >>= 1) {
            if (t < stride) {
                scratch[t] += scratch[t + stride];
            }
            c.localBarrier();
        }
        float result = scratch[0];
        c.localBarrier();
        return result;
    }

    public static float max(KernelContext c, float[] scratch, float value) {
        int t = c.localIdx;
        scratch[t] = value;
        c.localBarrier();
        for (int stride = c.localGroupSizeX / 2; stride > 0; stride >>= 1) {
            if (t < stride) {
                scratch[t] = TornadoMath.max(scratch[t], scratch[t + stride]);
            }
            c.localBarrier();
        }
        float result = scratch[0];
        c.localBarrier();
        return result;
    }

    /** {@code 1 / sqrt(mean(x²) + eps)} over {@code x[0..n)}: the RMSNorm scale. */
    public static float rmsScale(KernelContext c, float[] scratch, FloatArray x, int n, float eps) {
        float ss = 0f;
        for (int j = c.localIdx; j < n; j += c.localGroupSizeX) {
            float v = x.get(j);
            ss += v * v;
        }
        float total = sum(c, scratch, ss);
        return 1f / TornadoMath.sqrt(total / n + eps);
    }
}
