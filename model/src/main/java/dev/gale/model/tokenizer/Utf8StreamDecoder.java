package dev.gale.model.tokenizer;

/** Placeholder; replaced by the tokenizer branch. */
public final class Utf8StreamDecoder {
    public String feed(byte[] b) {
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    public String flush() {
        return "";
    }
}
