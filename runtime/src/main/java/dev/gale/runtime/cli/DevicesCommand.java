package dev.gale.runtime.cli;

import dev.gale.runtime.backend.BackendProvider;
import dev.gale.runtime.backend.Backends;
import dev.gale.runtime.backend.DeviceInfo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code gale devices}: list backends and their devices. */
@Command(name = "devices", mixinStandardHelpOptions = true, description = "List the backends and devices Gale can run on.")
final class DevicesCommand implements Callable<Integer>, CommonOptions.Holder {
    @Mixin
    CommonOptions common;

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() {
        boolean tornado = false;
        for (BackendProvider p : Backends.all()) {
            tornado |= p.name().equals("tornadovm");
            String why = p.unavailableReason();
            if (why != null) {
                System.out.println(p.name() + ": not available: " + why);
                continue;
            }
            for (DeviceInfo d : p.devices()) {
                System.out.printf("%s:%d  %-40s %-8s %s  %s%n", d.backend(), d.index(), d.name(), d.kind(),
                        d.memoryBytes() >= 0 ? String.format("%.1f GiB", d.memoryBytes() / (double) (1L << 30)) : "?",
                        d.detail());
            }
        }
        if (!tornado) {
            System.out.println("tornadovm: not installed (build with -Ptornadovm and set TORNADO_SDK; see README)");
        }
        return 0;
    }
}
