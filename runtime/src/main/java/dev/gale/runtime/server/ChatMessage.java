package dev.gale.runtime.server;

/**
 * One turn of a chat.
 *
 * @param role    system, developer, user, assistant or tool
 * @param content the turn's text
 */
public record ChatMessage(String role, String content) {
}
