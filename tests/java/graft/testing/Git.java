package graft.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The real {@code git} and {@code git-lfs} (Debian packages, installed by tests/run) run in a
 * sandbox: a private HOME, no system config, a fixed author, so that nothing of the user's
 * configuration (or network) takes part. Repositories are created under a test's scratch folder,
 * with a local bare repository as the remote.
 */
public final class Git {
    /** What a git command printed. */
    public record Out(int code, String out, String err) {
    }

    private final Path home;

    /** A sandbox whose HOME is {@code scratch/home}. Skips the test when git or git-lfs is missing. */
    public Git(Path scratch) {
        assumeInstalled();
        home = scratch.resolve("home");
        try {
            Files.createDirectories(home);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Skips (never passes) the test where git or git-lfs is missing; tests/run installs both. */
    public static void assumeInstalled() {
        Assumptions.assumeTrue(works("git", "--version"), "git is not installed; tests/run installs it");
        Assumptions.assumeTrue(works("git", "lfs", "version"), "git-lfs is not installed; tests/run installs it");
    }

    private static boolean works(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code git args...} in {@code dir}; fails the test unless it exits 0. */
    public String git(Path dir, String... args) {
        return git(dir, Map.of(), args);
    }

    /** As {@link #git(Path, String...)} with extra environment variables. */
    public String git(Path dir, Map<String, String> env, String... args) {
        Out o = run(dir, env, args);
        assertThat(o.code()).as("git " + String.join(" ", args) + " in " + dir + ": " + o.err()).isZero();
        return o.out();
    }

    /** Runs {@code git args...} in {@code dir} and returns what it printed, whatever its exit code. */
    public Out run(Path dir, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        return exec(dir, env, cmd);
    }

    /** Runs any command (such as the graft launcher) with this sandbox's environment. */
    public Out exec(Path dir, Map<String, String> env, List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        Map<String, String> e = pb.environment();
        e.put("HOME", home.toString());
        e.put("XDG_CONFIG_HOME", home.resolve(".config").toString());
        e.put("GIT_CONFIG_NOSYSTEM", "1");
        e.put("GIT_AUTHOR_NAME", "graft test");
        e.put("GIT_AUTHOR_EMAIL", "test@graft.invalid");
        e.put("GIT_COMMITTER_NAME", "graft test");
        e.put("GIT_COMMITTER_EMAIL", "test@graft.invalid");
        e.put("GIT_TERMINAL_PROMPT", "0");
        e.remove("GIT_DIR");
        e.remove("GIT_WORK_TREE");
        e.putAll(env);
        try {
            Path out = Files.createTempFile("graft-git", ".out");
            Path err = Files.createTempFile("graft-git", ".err");
            try {
                Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(300, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(String.join(" ", cmd) + ": did not finish in 300 s");
                }
                return new Out(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e2) {
            throw new UncheckedIOException(e2);
        } catch (InterruptedException e2) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e2);
        }
    }

    /**
     * A bare remote {@code scratch/remote.git} and a work repository {@code scratch/work} with
     * {@code git lfs install --local}, the remote as origin, and {@code patterns} tracked by LFS.
     */
    public Path newRepo(Path scratch, String... patterns) {
        Path remote = scratch.resolve("remote.git");
        Path work = scratch.resolve("work");
        git(scratch, "init", "-q", "--bare", "-b", "main", remote.toString());
        git(scratch, "init", "-q", "-b", "main", work.toString());
        git(work, "lfs", "install", "--local");
        git(work, "remote", "add", "origin", remote.toString());
        if (patterns.length > 0) {
            List<String> a = new ArrayList<>(List.of("lfs", "track"));
            a.addAll(List.of(patterns));
            git(work, a.toArray(String[]::new));
        }
        return work;
    }

    /**
     * A clone of {@code scratch/remote.git} made with {@code GIT_LFS_SKIP_SMUDGE=1}, so its work
     * tree holds pointers, then {@code git lfs fetch}: the objects are in its local store only.
     */
    public Path pointerClone(Path scratch, String name) {
        Path clone = scratch.resolve(name);
        git(scratch, Map.of("GIT_LFS_SKIP_SMUDGE", "1"), "clone", "-q", scratch.resolve("remote.git").toString(), clone.toString());
        git(clone, "lfs", "install", "--local", "--skip-smudge");
        git(clone, "lfs", "fetch");
        return clone;
    }
}
