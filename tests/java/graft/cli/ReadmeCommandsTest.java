package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * README cannot drift from the command line: every {@code graft ...} command line in a README code
 * block (fenced, or indented, with or without a leading {@code $ } or {@code ./}) whose input files
 * all exist in the repository is run, its outputs sent to a scratch folder, and must exit 0. A line
 * naming a file that is not in the repository (a model the user brings, a corpus file) is listed as
 * not run. The README's own examples are the oracle: what it says works, works.
 */
class ReadmeCommandsTest {
    static final Pattern LINE = Pattern.compile("^(?:\\s*\\$\\s+|\\s*)(?:\\./)?graft\\s+(.*)$");
    static final Set<String> FILE_EXT = Set.of("onnx", "h5", "hdf5", "keras", "prototxt", "caffemodel", "yaml", "yml", "npy", "json",
            "png", "jpg", "csv", "svg", "html");
    static final Set<String> OUTPUT_OPTIONS = Set.of("-o", "--out", "--output", "--save-as", "--svg", "--html", "--plot");

    record Example(int line, String text) {
    }

    /** The command lines inside code blocks (fenced with ``` or indented by 4 spaces). */
    static List<Example> examples(List<String> readme) {
        List<Example> out = new ArrayList<>();
        boolean fenced = false;
        for (int i = 0; i < readme.size(); i++) {
            String l = readme.get(i);
            if (l.strip().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            boolean indented = l.startsWith("    ") && (i == 0 || readme.get(i - 1).isBlank() || readme.get(i - 1).startsWith("    "));
            if (!fenced && !indented) {
                continue;
            }
            Matcher m = LINE.matcher(l);
            if (m.matches()) {
                out.add(new Example(i + 1, m.group(1)));
            }
        }
        return out;
    }

    /** Shell-like words: double and single quotes group, an unquoted # starts a comment. */
    static List<String> words(String s) {
        List<String> w = new ArrayList<>();
        StringBuilder b = null;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    b.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                b = b == null ? new StringBuilder() : b;
            } else if (c == '#' && b == null) {
                break;
            } else if (Character.isWhitespace(c)) {
                if (b != null) {
                    w.add(b.toString());
                    b = null;
                }
            } else {
                b = b == null ? new StringBuilder() : b;
                b.append(c);
            }
        }
        if (b != null) {
            w.add(b.toString());
        }
        return w;
    }

    static boolean fileLike(String w) {
        int dot = w.lastIndexOf('.');
        return !w.startsWith("-") && dot > 0 && FILE_EXT.contains(w.substring(dot + 1).toLowerCase(java.util.Locale.ROOT));
    }

    @Test
    void everyReadmeCommandWhoseFilesAreInTheRepositoryExitsZero() throws IOException {
        Path root = TestPaths.root();
        List<Example> all = examples(Files.readAllLines(root.resolve("README.md")));
        assertThat(all).as("graft command lines in README code blocks").isNotEmpty();
        List<String> ran = new ArrayList<>();
        List<String> notRun = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        int n = 0;
        for (Example e : all) {
            List<String> w = words(e.text());
            if (w.isEmpty()) {
                continue;
            }
            Path scratch = TestPaths.scratch("readme-commands").resolve("line" + e.line());
            Files.createDirectories(scratch);
            List<String> args = new ArrayList<>();
            String missing = null;
            int positional = 0;
            for (int i = 0; i < w.size(); i++) {
                String a = w.get(i);
                boolean output = i > 0 && OUTPUT_OPTIONS.contains(w.get(i - 1))
                        || w.get(0).equals("convert") && !a.startsWith("-") && i > 0 && !w.get(i - 1).startsWith("-") && ++positional == 2;
                if (output) {
                    args.add(scratch.resolve(Path.of(a).getFileName()).toString());
                } else if (fileLike(a)) {
                    Path p = root.resolve(a);
                    if (!Files.exists(p)) {
                        missing = a;
                        break;
                    }
                    args.add(p.toString());
                } else {
                    args.add(a);
                }
            }
            if (missing != null) {
                notRun.add("line " + e.line() + " (" + missing + " is not in the repository)");
                continue;
            }
            if (args.get(0).equals("demo")) {
                args.add("--dir");
                args.add(scratch.toString());
            }
            if (args.contains("-o") || args.contains("--out") || args.contains("--output")) {
                args.add("--force");
            }
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            n++;
            ran.add("line " + e.line() + ": graft " + e.text() + " -> exit " + r.code());
            if (r.code() != 0) {
                failures.add("README line " + e.line() + ": graft " + e.text() + " exited " + r.code() + ": " + r.err().strip());
            }
        }
        System.out.println("README commands run:\n  " + String.join("\n  ", ran) + "\nnot run:\n  " + String.join("\n  ", notRun));
        assertThat(failures).isEmpty();
        assertThat(n).as("README commands run").isGreaterThanOrEqualTo(3);
    }
}
