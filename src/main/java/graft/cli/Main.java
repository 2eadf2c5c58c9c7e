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
        subcommands = {DemoCommand.class, InspectCommand.class, ConvertCommand.class, RunCommand.class, SurgeryCommand.class, ValidateCommand.class, DiffCommand.class, FeaturesCommand.class, FinetuneCommand.class, WarmupCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 validation failure, 2 usage, 3 bad or unsupported input, 4 internal error."})
public final class Main implements Runnable {
    @Option(names = {"-v", "--verbose"}, description = "Print stack traces of errors.", scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (used by tests without forking a JVM). */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        boolean verbose = java.util.Arrays.asList(args).contains("-v") || java.util.Arrays.asList(args).contains("--verbose");
        CommandLine cl = new CommandLine(new Main());
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
