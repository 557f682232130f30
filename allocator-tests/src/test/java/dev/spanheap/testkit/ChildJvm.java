package dev.spanheap.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs a class's {@code main} in a child JVM: the running JVM's own {@code java} (from
 * {@code java.home}), the test class path, native access enabled, optionally under a real
 * address-space limit with {@code prlimit --as}. For the fault tests that need a process of their
 * own: a limit set on the child (or by the child on itself) cannot harm the test JVM.
 *
 * <pre>{@code
 * ChildJvm.Result result = ChildJvm.main(MyChild.class).addressSpaceLimit(2L << 30).args("scenario").run();
 * result.assertSucceeded();
 * }</pre>
 */
public final class ChildJvm {

    /** What a child printed and how it ended. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {

        /** Fails, showing the command and both streams, unless the child exited with 0. */
        public Result assertSucceeded() {
            if (exitCode != 0) {
                throw new AssertionError("child JVM exited with " + exitCode + "\n" + describe());
            }
            return this;
        }

        /** The value of the first stdout line {@code "key value..."}, or an AssertionError showing the output. */
        public String value(String key) {
            for (String line : stdout.split("\n")) {
                if (line.startsWith(key + " ")) {
                    return line.substring(key.length() + 1);
                }
            }
            throw new AssertionError("child printed no line '" + key + " ...'\n" + describe());
        }

        /** The command and both streams, for failure messages. */
        public String describe() {
            return "command: " + String.join(" ", command) + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private final Class<?> mainClass;
    private final List<String> jvmArgs = new ArrayList<>();
    private final List<String> args = new ArrayList<>();
    private long addressSpaceLimit = -1;
    private Duration timeout = Duration.ofSeconds(60);

    private ChildJvm(Class<?> mainClass) {
        this.mainClass = mainClass;
    }

    /** A child that runs {@code mainClass.main}. */
    public static ChildJvm main(Class<?> mainClass) {
        return new ChildJvm(mainClass);
    }

    /** {@code prlimit} on the PATH, if there is one. */
    public static Optional<Path> prlimit() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "prlimit");
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** JVM options, before the main class. */
    public ChildJvm jvmArgs(String... options) {
        jvmArgs.addAll(List.of(options));
        return this;
    }

    /** Arguments of {@code main}. */
    public ChildJvm args(String... arguments) {
        args.addAll(List.of(arguments));
        return this;
    }

    /**
     * Runs the child under {@code prlimit --as=bytes} (RLIMIT_AS, what {@code ulimit -v} sets).
     * Callers check {@link #prlimit()} first and skip when it is missing.
     */
    public ChildJvm addressSpaceLimit(long bytes) {
        this.addressSpaceLimit = bytes;
        return this;
    }

    /** How long the child may run before it is killed and the run fails (default 60 s). */
    public ChildJvm timeout(Duration limit) {
        this.timeout = limit;
        return this;
    }

    /** Starts the child, waits for it, and returns what it printed. */
    public Result run() {
        List<String> command = new ArrayList<>();
        if (addressSpaceLimit >= 0) {
            Path tool = prlimit().orElseThrow(() -> new IllegalStateException("prlimit is not on the PATH"));
            command.add(tool.toString());
            command.add("--as=" + addressSpaceLimit);
            command.add("--");
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(jvmArgs);
        command.add(mainClass.getName());
        command.addAll(args);
        try {
            Path out = Files.createTempFile("child-jvm", ".out");
            Path err = Files.createTempFile("child-jvm", ".err");
            try {
                // Run in the temporary directory, where a JVM that aborts leaves its hs_err file.
                ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .directory(new File(System.getProperty("java.io.tmpdir")));
                Process process = builder.start();
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError("child JVM did not finish within " + timeout + "\n"
                            + new Result(command, -1, Files.readString(out, StandardCharsets.UTF_8),
                                    Files.readString(err, StandardCharsets.UTF_8)).describe());
                }
                return new Result(command, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + command, e);
        }
    }
}
