package dev.gale.tornado;

import dev.gale.tornado.kernels.TransformerKernels;
import dev.gale.tornado.plan.DecodeStep;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import uk.ac.manchester.tornado.api.KernelContext;

/**
 * Runs a kernel launch on the host, exactly as its Java code says: one thread per work-item, the threads of a
 * work-group meeting at a real barrier and sharing their local arrays ({@link HostWorkItem}), groups one after
 * another. The reference that {@link KernelByKernelCheck} holds a device's results to (TornadoVM itself runs a
 * {@link KernelContext} kernel on the host without barriers or shared local memory, so it cannot serve).
 *
 * <p>The kernels, {@link KernelContext} and {@link HostWorkItem} run from copies defined by a class loader of
 * their own. TornadoVM compiles {@code c.localBarrier()} and the local-array allocations as intrinsics only while
 * no loaded subclass of its {@code KernelContext} overrides them; a work-item class in the same hierarchy makes it
 * leave them as calls and fail on the next kernels it compiles.
 */
final class HostWorkGroups {
    private static final String CONTEXT = KernelContext.class.getName();
    private static final String WORK_ITEM = "dev.gale.tornado.HostWorkItem";
    private static final ClassLoader ISOLATED = isolatedLoader();
    private static final Class<?> KERNELS = load(TransformerKernels.class.getName());
    private static final Constructor<?> NEW_WORK_ITEM = workItemConstructor();
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
        Method kernel = kernelTaking(args, contextIndex, launch.name());
        int groups = launch.global() / launch.local();
        for (int g = 0; g < groups; g++) {
            runGroup(launch, kernel, args, contextIndex, g);
        }
    }

    private static void runGroup(DecodeStep.Launch launch, Method kernel, Object[] args, int contextIndex, int group)
            throws Exception {
        int size = launch.local();
        CyclicBarrier barrier = new CyclicBarrier(size);
        List<Object> localArrays = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        Thread[] threads = new Thread[size];
        for (int t = 0; t < size; t++) {
            Object item = NEW_WORK_ITEM.newInstance(barrier, localArrays);
            GLOBAL_ID.set(item, group * size + t);
            GROUP_ID.set(item, group);
            LOCAL_ID.set(item, t);
            LOCAL_SIZE.set(item, size);
            GLOBAL_SIZE.set(item, launch.global());
            Object[] mine = args.clone();
            mine[contextIndex] = item;
            threads[t] = Thread.ofVirtual().start(() -> {
                try {
                    kernel.invoke(null, mine);
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

    /** Keeps the first failure (not the broken barriers it causes) and releases the other work-items. */
    private static void fail(Throwable[] failure, Throwable cause, CyclicBarrier barrier) {
        synchronized (failure) {
            if (failure[0] == null && !(cause instanceof BrokenBarrierException)) {
                failure[0] = cause;
            }
        }
        barrier.reset();
    }

    /** The one kernel whose parameters take {@code args} (the kernels' signatures differ). */
    private static Method kernelTaking(Object[] args, int contextIndex, String launch) {
        Method found = null;
        for (Method m : KERNELS.getMethods()) {
            if (m.getDeclaringClass() == KERNELS && accepts(m.getParameterTypes(), args, contextIndex)) {
                if (found != null) {
                    throw new IllegalStateException(launch + ": both " + found.getName() + " and " + m.getName()
                            + " take its arguments");
                }
                found = m;
            }
        }
        if (found == null) {
            throw new IllegalStateException(launch + ": no kernel of TransformerKernels takes its arguments");
        }
        return found;
    }

    private static boolean accepts(Class<?>[] types, Object[] args, int contextIndex) {
        if (types.length != args.length || !types[contextIndex].getName().equals(CONTEXT)) {
            return false;
        }
        for (int i = 0; i < types.length; i++) {
            Class<?> t = types[i] == int.class ? Integer.class : types[i] == float.class ? Float.class : types[i];
            if (i != contextIndex && !t.isInstance(args[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * A loader that defines the kernels' package, {@link KernelContext} and {@link HostWorkItem} again from their
     * class files, and leaves every other class to the application's loader.
     */
    private static ClassLoader isolatedLoader() {
        String kernels = TransformerKernels.class.getPackageName() + ".";
        Set<String> own = Set.of(CONTEXT, WORK_ITEM);
        ClassLoader parent = HostWorkGroups.class.getClassLoader();
        return new ClassLoader("host-kernels", parent) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (!name.startsWith(kernels) && !own.contains(name)) {
                    return super.loadClass(name, resolve);
                }
                synchronized (getClassLoadingLock(name)) {
                    Class<?> c = findLoadedClass(name);
                    if (c == null) {
                        String file = "/" + name.replace('.', '/') + ".class";
                        Class<?> origin = name.equals(CONTEXT) ? KernelContext.class : HostWorkGroups.class;
                        try (InputStream in = origin.getResourceAsStream(file)) {
                            if (in == null) {
                                throw new ClassNotFoundException(name);
                            }
                            byte[] bytes = in.readAllBytes();
                            c = defineClass(name, bytes, 0, bytes.length);
                        } catch (IOException e) {
                            throw new ClassNotFoundException(name, e);
                        }
                    }
                    return c;
                }
            }
        };
    }

    private static Class<?> load(String name) {
        try {
            return ISOLATED.loadClass(name);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("cannot define " + name + " for the host runs", e);
        }
    }

    private static Constructor<?> workItemConstructor() {
        try {
            return load(WORK_ITEM).getConstructor(CyclicBarrier.class, List.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(WORK_ITEM + " has no (CyclicBarrier, List) constructor", e);
        }
    }

    private static Field contextField(String name) {
        try {
            Field f = load(CONTEXT).getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("TornadoVM's KernelContext has no field " + name, e);
        }
    }
}
