package dev.gale.runtime.server;

import java.util.List;

/**
 * A template-free rendering for models without a chat template: each turn as {@code role: content} on its own
 * paragraph, then {@code assistant:} for the reply.
 */
public final class PlainChatPromptRenderer implements ChatPromptRenderer {

    @Override
    public String render(List<ChatMessage> messages) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append(m.role()).append(": ").append(m.content()).append("\n\n");
        }
        return sb.append("assistant:").toString();
    }
}
