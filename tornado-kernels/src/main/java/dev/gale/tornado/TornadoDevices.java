package dev.gale.tornado;

import dev.gale.runtime.backend.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/** TornadoVM's devices, numbered across its backends in order: the indices of {@code --device}. */
final class TornadoDevices {
    private TornadoDevices() {}

    static List<TornadoDevice> all() {
        TornadoRuntime rt = TornadoRuntimeProvider.getTornadoRuntime();
        List<TornadoDevice> list = new ArrayList<>();
        for (int b = 0; b < rt.getNumBackends(); b++) {
            TornadoBackend backend = rt.getBackend(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                list.add(backend.getDevice(d));
            }
        }
        return list;
    }

    static int count() {
        return all().size();
    }

    static TornadoDevice get(int index) {
        List<TornadoDevice> all = all();
        if (index < 0 || index >= all.size()) {
            throw new IllegalArgumentException("--device " + index + " does not exist: TornadoVM has "
                    + all.size() + " device" + (all.size() == 1 ? "" : "s") + " (0.." + (all.size() - 1)
                    + "; see 'gale devices')");
        }
        return all.get(index);
    }

    static List<DeviceInfo> describe() {
        List<DeviceInfo> infos = new ArrayList<>();
        List<TornadoDevice> all = all();
        for (int i = 0; i < all.size(); i++) {
            TornadoDevice d = all.get(i);
            infos.add(new DeviceInfo(i, TornadoBackendProvider.NAME, name(d), d.getDeviceType().name(),
                    d.getMaxGlobalMemory(), d.getTornadoVMBackend() + " " + d.getDeviceName() + ", "
                    + d.getPlatformName()));
        }
        return infos;
    }

    /** The device's own name (TornadoVM's {@code getDeviceName()} is an id such as {@code opencl-0-0}). */
    static String name(TornadoDevice d) {
        return d.getPhysicalDevice().getDeviceName().trim();
    }

    static boolean isGpu(TornadoDevice d) {
        return d.getDeviceType() != TornadoDeviceType.CPU;
    }
}
