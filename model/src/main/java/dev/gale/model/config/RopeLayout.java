package dev.gale.model.config;

/** How RoPE pairs the dimensions of a head. */
public enum RopeLayout {
    /** Pairs (2i, 2i+1): ggml's default mode, used by llama. */
    INTERLEAVED,
    /** Pairs (i, i + d/2): GPT-NeoX style, used by qwen, phi3 and gemma. */
    NEOX
}
