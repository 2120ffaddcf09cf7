package dev.gale.tornado.plan;

import dev.gale.tornado.kernels.GroupReductions;

/**
 * Work-group sizes per kind of kernel for one device. Powers of two, at most {@link GroupReductions#MAX_GROUP}
 * and the device's limit.
 *
 * @param rowGroup       threads per output row of a matrix-vector product
 * @param attentionGroup threads per attention head
 * @param singleGroup    threads of the kernels that run as one work-group (argmax, gemma's post-norms)
 * @param elementGroup   threads per group of element-wise kernels
 */
public record LaunchGeometry(int rowGroup, int attentionGroup, int singleGroup, int elementGroup) {

    /**
     * GPUs: 128 threads per row (four warps / two wavefronts, enough loads in flight to stream a row of a few
     * thousand values) and 256 for the one-group kernels. CPU devices (e.g. PoCL) run a group's threads as a loop,
     * so small groups there.
     */
    public static LaunchGeometry forDevice(boolean gpu, long maxGroup) {
        LaunchGeometry g = gpu ? new LaunchGeometry(128, 128, 256, 128) : new LaunchGeometry(16, 16, 16, 16);
        int cap = Integer.highestOneBit((int) Math.min(GroupReductions.MAX_GROUP, Math.max(1, maxGroup)));
        return new LaunchGeometry(Math.min(g.rowGroup, cap), Math.min(g.attentionGroup, cap),
                Math.min(g.singleGroup, cap), Math.min(g.elementGroup, cap));
    }
}
