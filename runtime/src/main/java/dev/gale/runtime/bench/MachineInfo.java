package dev.gale.runtime.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machine and runtime a benchmark ran on.
 *
 * @param cpu         CPU model name ({@code /proc/cpuinfo} on Linux; else the OS architecture)
 * @param cores       processors available to the JVM
 * @param memoryBytes physical memory, or -1 when unknown
 * @param os          OS name, version and architecture
 * @param jdk         Java runtime version
 * @param jdkVendor   Java runtime vendor and VM
 * @param tornadovm   TornadoVM version when its API is on the class or module path, else null
 */
public record MachineInfo(String cpu, int cores, long memoryBytes, String os, String jdk, String jdkVendor,
                          String tornadovm) {

    private static final String TORNADO_API_CLASS = "uk.ac.manchester.tornado.api.TornadoRuntime";
    private static final Pattern JAR_VERSION = Pattern.compile("tornado-api-(.+)\\.jar");

    public static MachineInfo detect() {
        String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch");
        long memory = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean o
                ? o.getTotalMemorySize() : -1;
        return new MachineInfo(cpuModel().orElse(System.getProperty("os.arch")),
                Runtime.getRuntime().availableProcessors(), memory, os, Runtime.version().toString(),
                System.getProperty("java.vendor") + ", " + System.getProperty("java.vm.name"),
                tornadoVersion().orElse(null));
    }

    private static Optional<String> cpuModel() {
        Path info = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(info)) {
            return Optional.empty();
        }
        try {
            return Files.readAllLines(info).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The version of TornadoVM's API: its module version, its jar manifest, or its jar's file name. */
    private static Optional<String> tornadoVersion() {
        Class<?> api;
        try {
            api = Class.forName(TORNADO_API_CLASS, false, MachineInfo.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.empty();
        }
        Optional<String> fromModule = api.getModule().getDescriptor() == null ? Optional.empty()
                : api.getModule().getDescriptor().rawVersion();
        if (fromModule.isPresent()) {
            return fromModule;
        }
        if (api.getPackage().getImplementationVersion() != null) {
            return Optional.of(api.getPackage().getImplementationVersion());
        }
        try {
            Path jar = Path.of(api.getProtectionDomain().getCodeSource().getLocation().toURI());
            Matcher m = JAR_VERSION.matcher(jar.getFileName().toString());
            return Optional.of(m.matches() ? m.group(1) : "unknown version");
        } catch (URISyntaxException | RuntimeException e) {
            return Optional.of("unknown version");
        }
    }
}
