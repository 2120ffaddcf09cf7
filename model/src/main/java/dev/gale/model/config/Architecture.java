package dev.gale.model.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The transformer families Gale runs, by their GGUF {@code general.architecture} name. */
public enum Architecture {
    LLAMA("llama", RopeLayout.INTERLEAVED),
    QWEN2("qwen2", RopeLayout.NEOX),
    QWEN3("qwen3", RopeLayout.NEOX),
    PHI3("phi3", RopeLayout.NEOX),
    GEMMA2("gemma2", RopeLayout.NEOX),
    GEMMA3("gemma3", RopeLayout.NEOX);

    private final String ggufName;
    private final RopeLayout ropeLayout;

    Architecture(String ggufName, RopeLayout ropeLayout) {
        this.ggufName = ggufName;
        this.ropeLayout = ropeLayout;
    }

    public String ggufName() {
        return ggufName;
    }

    public RopeLayout ropeLayout() {
        return ropeLayout;
    }

    public boolean isGemma() {
        return this == GEMMA2 || this == GEMMA3;
    }

    /** The architecture with this GGUF name, or null. */
    public static Architecture fromGguf(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        return null;
    }

    public static String supportedNames() {
        return Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", "));
    }
}
