package dev.gale.runtime.cli;

import picocli.CommandLine.Option;

/** Options every command takes. */
public final class CommonOptions {
    @Option(names = "--verbose", description = "Print stack traces and more detail on errors.")
    boolean verbose;

    /** A command that has the common options. */
    interface Holder {
        CommonOptions common();
    }
}
