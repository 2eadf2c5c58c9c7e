package graft.testing;

import graft.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the graft command line in this JVM and captures what it prints. */
public final class Cli {
    public record Result(int code, String out, String err) {
    }

    private Cli() {
    }

    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }
}
