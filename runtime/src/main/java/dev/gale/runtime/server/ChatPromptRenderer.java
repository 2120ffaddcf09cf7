package dev.gale.runtime.server;

import java.util.List;

/** Turns chat messages into the prompt text the model was trained on, ending where the assistant's reply starts. */
public interface ChatPromptRenderer {

    String render(List<ChatMessage> messages);
}
