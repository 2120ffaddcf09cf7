package dev.gale.runtime.cli;

import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code gale} command. */
@Command(name = "gale", mixinStandardHelpOptions = true, versionProvider = GaleCli.Version.class,
        description = "Gale: LLM inference in pure Java (CPU Vector API backend; TornadoVM for GPUs).",
        subcommands = {GenerateCommand.class, ChatCommand.class, ServeCommand.class, TokenizeCommand.class,
                InfoCommand.class, DevicesCommand.class, BenchCommand.class, SynthCommand.class, QuantizeCommand.class,
                CommandLine.HelpCommand.class})
public final class GaleCli {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (for tests). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new GaleCli());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler(GaleCli::handleError);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("gale: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            err.flush();
            return 2;
        });
        return cl;
    }

    private static int handleError(Exception ex, CommandLine cl, CommandLine.ParseResult parseResult) {
        PrintWriter err = cl.getErr();
        Object cmd = cl.getCommand();
        boolean verbose = cmd instanceof CommonOptions.Holder h && h.common().verbose;
        String msg = switch (ex) {
            case NoSuchFileException e -> "file not found: " + e.getFile();
            case java.nio.file.AccessDeniedException e -> "cannot read " + e.getFile() + ": permission denied";
            default -> ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
        };
        err.println("gale: error: " + msg);
        if (verbose) {
            ex.printStackTrace(err);
        } else if (!(ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                || ex instanceof dev.gale.model.gguf.GgufFormatException
                || ex instanceof dev.gale.model.config.UnsupportedModelException
                || ex instanceof dev.gale.model.chat.ChatTemplateException
                || ex instanceof dev.gale.runtime.backend.ContextOverflowException)) {
            err.println("(run with --verbose for the stack trace)");
        }
        err.flush();
        return 1;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = GaleCli.class.getPackage().getImplementationVersion();
            return new String[] {"gale " + (v != null ? v : "0.1.0-SNAPSHOT") + " (Java " + Runtime.version() + ")"};
        }
    }
}
