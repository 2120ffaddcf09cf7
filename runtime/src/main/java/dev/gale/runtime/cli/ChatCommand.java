package dev.gale.runtime.cli;

import dev.gale.model.Model;
import dev.gale.model.chat.ChatMessage;
import dev.gale.model.chat.ChatTemplate;
import dev.gale.model.chat.ChatTemplateException;
import dev.gale.model.tokenizer.Tokenizer;
import dev.gale.model.tokenizer.Utf8StreamDecoder;
import dev.gale.runtime.backend.Backends;
import dev.gale.runtime.backend.ContextOverflowException;
import dev.gale.runtime.backend.InferenceEngine;
import dev.gale.runtime.backend.InferenceSession;
import dev.gale.runtime.chat.ChatSession;
import dev.gale.runtime.chat.ChatTurn;
import dev.gale.runtime.generate.StopReason;
import dev.gale.runtime.load.ModelLoader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code gale chat}: a conversation with a model. On a terminal: line editing and history (JLine), replies streamed,
 * timings in dim text after each reply, Ctrl-C stops a reply. Otherwise one user turn per input line, each reply on
 * stdout followed by a newline, timings on stderr, until end of input.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model, using the chat template in its file (or a built-in one for its family).",
                "Interactive on a terminal; otherwise reads one user message per line from stdin and prints each reply "
                        + "on its own line.",
                "Commands: /reset, /system TEXT, /stats, /help, /quit."})
final class ChatCommand implements Callable<Integer>, CommonOptions.Holder {
    private static final String HELP = """
            /reset         forget the conversation (the system prompt stays)
            /system TEXT   set the system prompt and start a new conversation (/system alone shows it)
            /stats         tokens in the context, reused and prefilled so far
            /help          this list
            /quit          leave (also Ctrl-D)""";

    @Mixin
    CommonOptions common;

    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model file.")
    Path model;

    @Option(names = "--system", description = "System prompt.")
    String system;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "512", description = "Most tokens per reply (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    EngineOptions engineOptions;

    @Override
    public CommonOptions common() {
        return common;
    }

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("--max-tokens must be >= 1, got " + maxTokens);
        }
        try (Model m = ModelLoader.load(model, true, System.err);
             InferenceEngine engine = Backends.named(engineOptions.backend).load(m, engineOptions.backendOptions());
             InferenceSession session = engine.newSession(engineOptions.ctxSize)) {
            Tokenizer tokenizer = m.tokenizer();
            ChatTemplate template = ChatTemplate.forModel(m.gguf().metadata());
            ChatSession chat = new ChatSession(session, tokenizer, template, sampling.params(), maxTokens);
            chat.setSystemPrompt(system);
            List<ChatMessage> probe = new ArrayList<>(chat.conversation());
            probe.add(ChatMessage.user("Hello"));
            template.render(probe, true);
            boolean terminal = System.console() != null && System.console().isTerminal();
            try (ChatIo io = terminal ? new TerminalIo() : new StreamIo()) {
                io.info("chat with " + m.path().getFileName() + " on " + engine.backendName() + " (" + engine.deviceName()
                        + "), template: " + template.description() + ", context " + session.contextLength()
                        + " tokens. /help lists the commands.");
                converse(chat, tokenizer, io);
            }
        }
        return 0;
    }

    private void converse(ChatSession chat, Tokenizer tokenizer, ChatIo io) throws IOException {
        String line;
        while ((line = io.readLine()) != null) {
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            if (text.startsWith("/")) {
                if (!command(chat, text, io)) {
                    return;
                }
                continue;
            }
            Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
            io.startReply();
            try {
                ChatTurn turn = chat.send(text, token -> {
                    io.reply(utf8.feed(tokenizer.tokenBytes(token, false)));
                    return !io.interrupted();
                });
                io.reply(utf8.flush());
                io.endReply();
                io.info("[" + turn.summary() + stopNote(turn.stopReason()) + "]");
            } catch (ContextOverflowException | ChatTemplateException e) {
                io.endReply();
                io.info("gale: " + e.getMessage() + (e instanceof ContextOverflowException
                        ? " — /reset starts a new conversation" : ""));
            }
        }
    }

    private static String stopNote(StopReason reason) {
        return switch (reason) {
            case END_OF_TEXT, STOP_STRING -> "";
            case MAX_TOKENS -> ", stopped at --max-tokens";
            case CONTEXT_FULL -> ", context full: /reset starts a new conversation";
            case CANCELLED -> ", interrupted";
        };
    }

    /** Runs a slash command; false means leave. */
    private static boolean command(ChatSession chat, String text, ChatIo io) {
        int space = text.indexOf(' ');
        String name = space < 0 ? text : text.substring(0, space);
        String argument = space < 0 ? "" : text.substring(space + 1).strip();
        switch (name) {
            case "/quit", "/exit" -> {
                return false;
            }
            case "/reset" -> {
                chat.reset();
                io.info("conversation cleared");
            }
            case "/system" -> {
                if (argument.isEmpty()) {
                    io.info(chat.systemPrompt() == null ? "no system prompt" : "system prompt: " + chat.systemPrompt());
                } else {
                    chat.setSystemPrompt(argument);
                    io.info("system prompt set; new conversation");
                }
            }
            case "/stats" -> io.info(chat.stats().summary() + "; template: " + chat.template().description());
            case "/help" -> io.info(HELP);
            default -> io.info("unknown command " + name + "; /help lists the commands");
        }
        return true;
    }

    /** Where the conversation comes from and goes to. */
    private interface ChatIo extends AutoCloseable {
        /** The next line the user typed, or null at the end. */
        String readLine() throws IOException;

        void startReply();

        void reply(String text);

        void endReply();

        /** Notes, timings and command output. */
        void info(String text);

        /** Whether the user asked to stop the current reply. */
        boolean interrupted();

        @Override
        void close() throws IOException;
    }

    /** A person at a terminal: JLine line editing and history; Ctrl-C stops a reply, Ctrl-D leaves. */
    private static final class TerminalIo implements ChatIo {
        private final Terminal terminal;
        private final LineReader reader;
        private final PrintWriter out;
        private final AtomicBoolean interrupt = new AtomicBoolean();

        TerminalIo() throws IOException {
            terminal = TerminalBuilder.builder().system(true).build();
            reader = LineReaderBuilder.builder().terminal(terminal).appName("gale").build();
            out = terminal.writer();
            terminal.handle(Terminal.Signal.INT, signal -> interrupt.set(true));
        }

        @Override
        public String readLine() {
            while (true) {
                try {
                    return reader.readLine("> ");
                } catch (UserInterruptException e) {
                    // Ctrl-C at the prompt drops the line being typed
                } catch (EndOfFileException e) {
                    return null;
                }
            }
        }

        @Override
        public void startReply() {
            interrupt.set(false);
        }

        @Override
        public void reply(String text) {
            out.print(text);
            out.flush();
        }

        @Override
        public void endReply() {
            out.println();
        }

        @Override
        public void info(String text) {
            out.println(new AttributedString(text, AttributedStyle.DEFAULT.faint()).toAnsi(terminal));
            out.flush();
        }

        @Override
        public boolean interrupted() {
            return interrupt.get();
        }

        @Override
        public void close() throws IOException {
            terminal.close();
        }
    }

    /** Piped input: one user turn per line; replies on stdout, everything else on stderr. */
    private static final class StreamIo implements ChatIo {
        private final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        private final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        private final PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);

        @Override
        public String readLine() throws IOException {
            return in.readLine();
        }

        @Override
        public void startReply() {
            // replies start where the previous one ended
        }

        @Override
        public void reply(String text) {
            out.print(text);
            out.flush();
        }

        @Override
        public void endReply() {
            out.println();
            out.flush();
        }

        @Override
        public void info(String text) {
            err.println(text);
        }

        @Override
        public boolean interrupted() {
            return false;
        }

        @Override
        public void close() {
            out.flush();
        }
    }
}
