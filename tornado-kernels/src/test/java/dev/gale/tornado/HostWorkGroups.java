package dev.gale.tornado;

import dev.gale.tornado.plan.DecodeStep;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import uk.ac.manchester.tornado.api.KernelContext;

/**
 * Runs a kernel launch on the host, exactly as its Java code says: one thread per work-item, the threads of a
 * work-group meeting at a real barrier and sharing their local arrays, groups one after another. The reference
 * that {@link KernelByKernelCheck} holds a device's results to (TornadoVM itself runs a {@link KernelContext}
 * kernel on the host without barriers or shared local memory, so it cannot serve).
 */
final class HostWorkGroups {
    private static final Field GLOBAL_ID = contextField("globalIdx");
    private static final Field GROUP_ID = contextField("groupIdx");
    private static final Field LOCAL_ID = contextField("localIdx");
    private static final Field LOCAL_SIZE = contextField("localGroupSizeX");
    private static final Field GLOBAL_SIZE = contextField("globalGroupSizeX");

    private HostWorkGroups() {}

    /**
     * Runs {@code launch} with its array arguments replaced as {@code substitutes} says (identity keys), so that
     * the launch's own arrays stay as they are.
     */
    static void run(DecodeStep.Launch launch, Map<Object, Object> substitutes) throws Exception {
        Object[] parameters = launch.task().getTaskParameters();
        Object code = parameters[0];
        Method apply = applyMethod(code);
        Object[] args = new Object[parameters.length - 1];
        int contextIndex = -1;
        for (int i = 0; i < args.length; i++) {
            Object a = parameters[i + 1];
            if (a instanceof KernelContext) {
                contextIndex = i;
            }
            args[i] = substitutes.getOrDefault(a, a);
        }
        if (contextIndex < 0) {
            throw new IllegalArgumentException(launch.name() + " takes no KernelContext");
        }
        int groups = launch.global() / launch.local();
        for (int g = 0; g < groups; g++) {
            runGroup(launch, apply, code, args, contextIndex, g);
        }
    }

    private static void runGroup(DecodeStep.Launch launch, Method apply, Object code, Object[] args, int contextIndex,
                                 int group) throws Exception {
        int size = launch.local();
        CyclicBarrier barrier = new CyclicBarrier(size);
        List<Object> localArrays = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        Thread[] threads = new Thread[size];
        for (int t = 0; t < size; t++) {
            WorkItem item = new WorkItem(barrier, localArrays);
            set(item, group * size + t, group, t, size, launch.global());
            Object[] mine = args.clone();
            mine[contextIndex] = item;
            threads[t] = Thread.ofVirtual().start(() -> {
                try {
                    apply.invoke(code, mine);
                } catch (InvocationTargetException e) {
                    fail(failure, e.getCause(), barrier);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    fail(failure, e, barrier);
                }
            });
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (failure[0] != null) {
            throw new IllegalStateException(launch.name() + ", group " + group + " on the host: " + failure[0], failure[0]);
        }
    }

    private static void fail(Throwable[] failure, Throwable cause, CyclicBarrier barrier) {
        synchronized (failure) {
            if (failure[0] == null && !(cause instanceof BrokenBarrierException)) {
                failure[0] = cause;
            }
        }
        barrier.reset();
    }

    private static Method applyMethod(Object code) {
        for (Class<?> i : code.getClass().getInterfaces()) {
            for (Method m : i.getMethods()) {
                if (m.getName().equals("apply")) {
                    return m;
                }
            }
        }
        throw new IllegalArgumentException("not a TornadoVM task function: " + code.getClass());
    }

    private static void set(KernelContext c, int global, int group, int local, int localSize, int globalSize)
            throws IllegalAccessException {
        GLOBAL_ID.set(c, global);
        GROUP_ID.set(c, group);
        LOCAL_ID.set(c, local);
        LOCAL_SIZE.set(c, localSize);
        GLOBAL_SIZE.set(c, globalSize);
    }

    private static Field contextField(String name) {
        try {
            Field f = KernelContext.class.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("TornadoVM's KernelContext has no field " + name, e);
        }
    }

    /**
     * One work-item: barriers wait for the whole group; the n-th local array a work-item allocates is the
     * group's n-th (every work-item allocates the same arrays in the same order).
     */
    private static final class WorkItem extends KernelContext {
        private final CyclicBarrier barrier;
        private final List<Object> groupArrays;
        private int allocated;

        WorkItem(CyclicBarrier barrier, List<Object> groupArrays) {
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
}
