package dev.gale.runtime.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/** Finds backends on the class path. */
public final class Backends {
    private Backends() {}

    public static List<BackendProvider> all() {
        List<BackendProvider> list = new ArrayList<>();
        for (ServiceLoader.Provider<BackendProvider> p : ServiceLoader.load(BackendProvider.class).stream().toList()) {
            try {
                list.add(p.get());
            } catch (Throwable e) {
                // a backend whose classes cannot load (e.g. TornadoVM missing) is skipped
            }
        }
        return list;
    }

    /** The backend with this name; a clear exception if it is unknown or cannot run here. */
    public static BackendProvider named(String name) {
        for (BackendProvider p : all()) {
            if (p.name().equalsIgnoreCase(name)) {
                String why = p.unavailableReason();
                if (why != null) {
                    throw new IllegalArgumentException("backend '" + name + "' is not available: " + why);
                }
                return p;
            }
        }
        if (name.equalsIgnoreCase("tornadovm")) {
            throw new IllegalArgumentException("backend 'tornadovm' is not installed: build Gale with -Ptornadovm "
                    + "against a TornadoVM SDK (see README, 'Running on a GPU') and launch with scripts/gale, "
                    + "which adds TornadoVM's JVM options when TORNADO_SDK is set");
        }
        throw new IllegalArgumentException("unknown backend '" + name + "' (available: "
                + all().stream().map(BackendProvider::name).collect(Collectors.joining(", ")) + ")");
    }
}
