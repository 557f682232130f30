package dev.spanheap.bench;

import picocli.CommandLine.Option;

/** The {@code -h}/{@code --help} option every command of the tool takes, mixed in with picocli's {@code @Mixin}. */
final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help")
    boolean help;
}
