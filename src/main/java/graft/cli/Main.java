package graft.cli;

import graft.error.ExitCodes;
import graft.error.GraftException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code graft} command. Holds no logic: each subcommand parses its options, calls the
 * library, prints. Errors become one line and a documented exit code (stack trace with -v).
 */
@Command(name = "graft", mixinStandardHelpOptions = true, version = "graft 0.1.0",
        description = "Import pretrained CNNs from Keras, Caffe and ONNX, edit, export, validate and fine-tune them.",
        footer = {"", "Exit codes: 0 ok, 1 validation failure, 2 usage, 3 bad, missing or unsupported input, 4 internal error (a bug), 5 environment (cannot write, native library)."})
public final class Main implements Runnable {
    @Option(names = {"-v", "--verbose"}, description = "Print stack traces of errors.", scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    @Option(names = "--no-lfs", description = "Refuse a model path that is a Git LFS pointer instead of reading its object from the repository's local LFS store.",
            scope = CommandLine.ScopeType.INHERIT)
    boolean noLfs;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * The subcommands, by name. Picocli builds a command's model by reflection when it is added,
     * which for all of them costs about 0.2 s of start-up, longer than a VGG16 conversion's own
     * work; so a run adds only the subcommand it names, and all of them only for help or errors.
     */
    private static final java.util.Map<String, java.util.function.Supplier<Object>> SUBCOMMANDS = subcommands();

    private static java.util.Map<String, java.util.function.Supplier<Object>> subcommands() {
        java.util.Map<String, java.util.function.Supplier<Object>> m = new java.util.LinkedHashMap<>();
        m.put("demo", DemoCommand::new);
        m.put("inspect", InspectCommand::new);
        m.put("convert", ConvertCommand::new);
        m.put("run", RunCommand::new);
        m.put("surgery", SurgeryCommand::new);
        m.put("validate", ValidateCommand::new);
        m.put("diff", DiffCommand::new);
        m.put("features", FeaturesCommand::new);
        m.put("finetune", FinetuneCommand::new);
        m.put("warmup", WarmupCommand::new);
        m.put("quantize", QuantizeCommand::new);
        m.put("lfs-pointer", LfsPointerCommand::new);
        m.put("lfs-verify", LfsVerifyCommand::new);
        m.put("init-git", InitGitCommand::new);
        return m;
    }

    /** The first argument that is not a global option: the subcommand's name, if it is one. */
    private static String named(String[] args) {
        for (String a : args) {
            if (a.equals("-v") || a.equals("--verbose") || a.equals("--no-lfs")) {
                continue;
            }
            return SUBCOMMANDS.containsKey(a) ? a : null;
        }
        return null;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        graft.io.Timing.mark("main");
        int code = execute(args);
        graft.io.Timing.mark("exit");
        System.exit(code);
    }

    /** Runs the command line and returns the exit code (used by tests without forking a JVM). */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        boolean verbose = java.util.Arrays.asList(args).contains("-v") || java.util.Arrays.asList(args).contains("--verbose");
        graft.runtime.OrtRunner.verbose(verbose);
        graft.io.GitLfs.enabled(!java.util.Arrays.asList(args).contains("--no-lfs"));
        graft.io.GitLfs.notices(err);
        CommandLine cl = new CommandLine(new Main());
        graft.io.Timing.mark("picocli: root built");
        String only = named(args);
        // --version needs no subcommand at all; help and errors list them all.
        boolean none = only == null && args.length > 0 && (args[0].equals("-V") || args[0].equals("--version"));
        for (var e : SUBCOMMANDS.entrySet()) {
            if (!none && (only == null || only.equals(e.getKey()))) {
                cl.addSubcommand(e.getKey(), e.getValue().get());
            }
        }
        graft.io.Timing.mark("picocli: subcommand added");
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            Throwable t = ex;
            if (t instanceof GraftException g) {
                err.println("graft: " + g.getMessage());
                if (verbose) {
                    g.printStackTrace(err);
                }
                err.flush();
                return g.exitCode();
            }
            if (t instanceof UnsatisfiedLinkError) {
                err.println("graft: a native library cannot be loaded: " + t.getMessage());
                err.flush();
                return ExitCodes.ENVIRONMENT;
            }
            if (t instanceof OutOfMemoryError) {
                err.println("graft: out of memory; raise the heap with GRAFT_JAVA_OPTS=-Xmx...");
            } else {
                err.println("graft: internal error: " + t + (verbose ? "" : " (run with -v for details)"));
            }
            if (verbose) {
                t.printStackTrace(err);
            }
            err.flush();
            return ExitCodes.INTERNAL;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("graft: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
            CommandLine c = ex.getCommandLine();
            err.println("Usage: see 'graft " + (c.getCommandName().equals("graft") ? "" : c.getCommandName() + " ") + "--help'");
            err.flush();
            return ExitCodes.USAGE;
        });
        int code = cl.execute(args);
        out.flush();
        return code;
    }
}
