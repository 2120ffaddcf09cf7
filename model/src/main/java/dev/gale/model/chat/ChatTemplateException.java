package dev.gale.model.chat;

/** A chat template that does not parse, fails while rendering, or rejects the conversation (raise_exception). */
public final class ChatTemplateException extends RuntimeException {

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
