package graft.cli;

import graft.error.EnvironmentException;
import graft.error.UsageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "init-git", mixinStandardHelpOptions = true,
        description = {"Set up a git repository for models: .gitattributes tracks *.onnx *.h5 *.keras *.caffemodel in Git LFS "
                + "with graft's diff driver (filter=lfs diff=graft merge=lfs -text; prototxt stays plain text), and the "
                + "repository's own config gets diff.graft.textconv = 'graft inspect --textconv' (and git lfs install --local "
                + "when git-lfs is installed). Idempotent: a second run changes nothing. Prints each change."},
        footer = {"", "Examples:", "  cd my-models && graft init-git && git add .gitattributes",
                "  git diff HEAD~1 -- vgg16.onnx     (then shows layers and weights, not 'Binary files differ')"})
final class InitGitCommand implements Callable<Integer> {
    static final List<String> PATTERNS = List.of("*.onnx", "*.h5", "*.keras", "*.caffemodel");
    static final String ATTRIBUTES = "filter=lfs diff=graft merge=lfs -text";

    @Option(names = "--repo", paramLabel = "DIR", description = "The repository (default: the one the current folder is in).")
    Path repo;

    @Option(names = "--textconv", paramLabel = "CMD",
            description = "The textconv command (default: this graft launcher's absolute path, then ' inspect --textconv').")
    String textconv;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path start = repo != null ? repo : Path.of("");
        if (repo != null && !Files.isDirectory(repo)) {
            throw new UsageException("--repo " + repo + ": not a folder");
        }
        String top = git(start, "rev-parse", "--show-toplevel");
        if (top == null) {
            throw new UsageException("'" + start.toAbsolutePath() + "' is not inside a git work tree: run git init first (or pass --repo DIR)");
        }
        Path root = Path.of(top.strip());
        int changes = attributes(root.resolve(".gitattributes"), out);
        String cmd = textconv != null ? textconv : defaultTextconv();
        String have = git(root, "config", "--local", "--get", "diff.graft.textconv");
        if (have == null || !have.strip().equals(cmd)) {
            require(git(root, "config", "--local", "diff.graft.textconv", cmd), "git config diff.graft.textconv");
            out.println((have == null ? "set" : "changed") + " git config diff.graft.textconv = " + cmd
                    + (have == null ? "" : " (was " + have.strip() + ")"));
            changes++;
        }
        if (git(root, "lfs", "version") == null) {
            out.println("notice: git-lfs is not installed: the filter=lfs lines take effect once it is (then run git lfs install)");
        } else if (git(root, "config", "--local", "--get", "filter.lfs.clean") == null
                && git(root, "config", "--global", "--get", "filter.lfs.clean") == null
                && git(root, "config", "--system", "--get", "filter.lfs.clean") == null) {
            require(git(root, "lfs", "install", "--local"), "git lfs install --local");
            out.println("ran git lfs install --local (the LFS filters were not configured)");
            changes++;
        }
        out.println(changes == 0 ? "nothing to change: " + root + " is already set up for models"
                : changes + " change" + (changes == 1 ? "" : "s") + " in " + root + "; commit .gitattributes");
        out.flush();
        return 0;
    }

    /** Makes each model pattern's line in {@code file} read exactly ATTRIBUTES; returns how many lines changed. */
    static int attributes(Path file, PrintWriter out) throws IOException {
        List<String> lines = Files.exists(file) ? new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8)) : new ArrayList<>();
        Map<String, Integer> at = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String[] t = lines.get(i).strip().split("\\s+", 2);
            if (PATTERNS.contains(t[0])) {
                at.put(t[0], i);
            }
        }
        int changes = 0;
        for (String p : PATTERNS) {
            String want = p + " " + ATTRIBUTES;
            Integer i = at.get(p);
            if (i == null) {
                lines.add(want);
                out.println("added to .gitattributes: " + want);
                changes++;
            } else if (!lines.get(i).strip().replaceAll("\\s+", " ").equals(want)) {
                out.println("changed in .gitattributes: " + lines.get(i).strip() + " -> " + want);
                lines.set(i, want);
                changes++;
            }
        }
        if (changes > 0) {
            Path tmp = file.resolveSibling(".gitattributes.graft-tmp");
            Files.write(tmp, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return changes;
    }

    /** The launcher this JVM was started by (graft.home), or plain {@code graft} from PATH. */
    static String defaultTextconv() {
        String home = System.getProperty("graft.home");
        if (home != null && Files.isExecutable(Path.of(home, "graft"))) {
            String p = Path.of(home, "graft").toAbsolutePath().normalize().toString();
            return (p.matches("[A-Za-z0-9_./+-]+") ? p : "'" + p.replace("'", "'\\''") + "'") + " inspect --textconv";
        }
        return "graft inspect --textconv";
    }

    private static void require(String result, String what) {
        if (result == null) {
            throw new EnvironmentException(what + " failed");
        }
    }

    /** Runs git; its stdout, or null when it exits non-zero. Exit 5 when git itself cannot run. */
    static String git(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toAbsolutePath().toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] o = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new EnvironmentException("git " + String.join(" ", args) + " did not finish in 60 s");
            }
            return p.exitValue() == 0 ? new String(o, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            throw new EnvironmentException("git cannot be run (" + e.getMessage() + "): install git");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EnvironmentException("interrupted while running git");
        }
    }
}
