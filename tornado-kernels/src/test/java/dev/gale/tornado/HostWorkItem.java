package dev.gale.tornado;

import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import uk.ac.manchester.tornado.api.KernelContext;

/**
 * One work-item of {@link HostWorkGroups}: barriers wait for the whole group; the n-th local array a work-item
 * allocates is the group's n-th (every work-item allocates the same arrays in the same order).
 *
 * <p>Only ever loaded by {@link HostWorkGroups}' own class loader, as a subclass of that loader's copy of
 * {@link KernelContext}; never name it elsewhere.
 */
public final class HostWorkItem extends KernelContext {
    private final CyclicBarrier barrier;
    private final List<Object> groupArrays;
    private int allocated;

    public HostWorkItem(CyclicBarrier barrier, List<Object> groupArrays) {
        this.barrier = barrier;
        this.groupArrays = groupArrays;
    }

    @Override
    public void localBarrier() {
        try {
            barrier.await();
        } catch (InterruptedException | BrokenBarrierException e) {
            throw new IllegalStateException("work-group barrier broken", e);
        }
    }

    @Override
    public void globalBarrier() {
        localBarrier();
    }

    @Override
    public float[] allocateFloatLocalArray(int size) {
        return (float[]) shared(new float[size]);
    }

    @Override
    public int[] allocateIntLocalArray(int size) {
        return (int[]) shared(new int[size]);
    }

    private Object shared(Object fresh) {
        synchronized (groupArrays) {
            if (allocated == groupArrays.size()) {
                groupArrays.add(fresh);
            }
            return groupArrays.get(allocated++);
        }
    }
}
