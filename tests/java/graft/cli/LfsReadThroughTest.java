package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.Git;
import graft.testing.TestPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Models behind Git LFS pointers (issue 18, item 1), with the real {@code git} and
 * {@code git-lfs}: a repository tracking {@code *.onnx *.data *.h5 *.keras *.caffemodel} is
 * pushed to a local bare remote and cloned with {@code GIT_LFS_SKIP_SMUDGE=1}, so the clone's
 * work tree holds pointers, then {@code git lfs fetch} puts the objects in its local store.
 * The oracle is graft on the real files in the first repository: {@code inspect --json} on each
 * pointer path prints exactly what it prints for the real file, and {@code convert} writes
 * byte-identical ONNX (tolerance: none). Every reader is covered: ONNX inline and with an
 * external-data file that is itself a pointer, Keras {@code .h5}, a weights-only {@code .h5}
 * with {@code --config}, {@code .keras} (stored and deflated), and a Caffe prototxt (text,
 * not in LFS) with its caffemodel in LFS. Also the refusals: {@code --no-lfs}, a missing object
 * (the pull hint), one flipped byte in the object (the SHA-256 mismatch), and the store found
 * from a linked worktree and through {@code GIT_DIR}.
 */
class LfsReadThroughTest {
    private static Path scratch;
    private static Git git;
    private static Path work;
    private static Path clone;

    /** A model as a list of arguments relative to a repository: the model, then its options. */
    private record Case(String model, String... options) {
        List<String> args(Path repo) {
            List<String> a = new ArrayList<>(List.of(repo.resolve(model).toString()));
            for (int i = 0; i < options.length; i++) {
                a.add(options[i]);
                if (options[i].startsWith("--")) {
                    a.add(repo.resolve(options[++i]).toString());
                }
            }
            return a;
        }
    }

    private static final List<Case> CASES = List.of(
            new Case("onnx/m.onnx"),
            new Case("onnx/ext.onnx"),
            new Case("keras/cnn.h5"),
            new Case("keras/weights.h5", "--config", "keras/config.json"),
            new Case("keras/stored.keras"),
            new Case("keras/deflated.keras"),
            new Case("caffe/lenet.prototxt", "--weights", "caffe/lenet.caffemodel"));

    @BeforeAll
    static void repository() throws Exception {
        scratch = TestPaths.scratch("lfs-read-through");
        git = new Git(scratch);
        work = git.newRepo(scratch, "*.onnx", "*.data", "*.h5", "*.keras", "*.caffemodel");
        Path c = TestPaths.corpus();
        copy(c.resolve("onnx/output_cnn_mnist.onnx"), work.resolve("onnx/m.onnx"));
        Cli.Result ext = Cli.run("convert", TestPaths.fixtures().resolve("onnx/small_vgg.onnx").toString(),
                work.resolve("onnx/ext.onnx").toString(), "--external-data", "always");
        assertThat(ext.code()).as(ext.err()).isZero();
        assertThat(work.resolve("onnx/ext.onnx.data")).exists();
        copy(c.resolve("keras/tfkeras/cnn2d_101.h5"), work.resolve("keras/cnn.h5"));
        copy(c.resolve("keras/examples/activations/ReLU_0_weights.h5"), work.resolve("keras/weights.h5"));
        copy(c.resolve("keras/examples/activations/ReLU_0_config.json"), work.resolve("keras/config.json"));
        copy(TestPaths.fixtures().resolve("fuzz/keras-zip/small_stored.keras"), work.resolve("keras/stored.keras"));
        copy(TestPaths.fixtures().resolve("fuzz/keras-zip/small_deflated.keras"), work.resolve("keras/deflated.keras"));
        copy(c.resolve("caffe/mnist/lenet.prototxt"), work.resolve("caffe/lenet.prototxt"));
        copy(c.resolve("caffe/mnist/lenet_iter_10000.caffemodel"), work.resolve("caffe/lenet.caffemodel"));
        git.git(work, "add", ".");
        git.git(work, "commit", "-q", "-m", "models");
        git.git(work, "push", "-q", "origin", "main");
        clone = git.pointerClone(scratch, "clone");
    }

    private static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }

    private static boolean isPointer(Path p) throws Exception {
        return Files.size(p) < 1024 && Files.readString(p, StandardCharsets.ISO_8859_1).startsWith("version https://git-lfs.github.com/spec/v1\n");
    }

    private static Cli.Result graft(String command, Path repo, Case c, String... more) {
        List<String> a = new ArrayList<>(List.of(command));
        a.addAll(c.args(repo));
        a.addAll(List.of(more));
        return Cli.run(a.toArray(String[]::new));
    }

    @Test
    void everyReaderReadsThroughAPointerAsItReadsTheFile() throws Exception {
        for (Case c : CASES) {
            String inLfs = c.model().endsWith(".prototxt") ? c.options()[1] : c.model(); // a prototxt stays text
            assertThat(isPointer(clone.resolve(inLfs))).as(inLfs + " is a pointer in the clone").isTrue();
            assertThat(isPointer(work.resolve(inLfs))).as(inLfs + " is the model in the first repository").isFalse();
            Cli.Result real = graft("inspect", work, c, "--json");
            Cli.Result viaPointer = graft("inspect", clone, c, "--json");
            assertThat(real.code()).as(c.model() + ": " + real.err()).isZero();
            assertThat(viaPointer.code()).as(c.model() + ": " + viaPointer.err()).isZero();
            assertThat(viaPointer.out()).as(c.model()).isEqualTo(real.out());
            assertThat(viaPointer.err()).as(c.model()).contains("graft: notice: reading LFS object " + clone.resolve(".git/lfs/objects"))
                    .contains(" for '" + clone.resolve(inLfs) + "' (not checked out)");
            assertThat(real.err()).doesNotContain("LFS");

            Path outReal = scratch.resolve("out-real").resolve(c.model().replace('/', '_') + ".onnx");
            Path outPointer = scratch.resolve("out-pointer").resolve(c.model().replace('/', '_') + ".onnx");
            Files.createDirectories(outReal.getParent());
            Files.createDirectories(outPointer.getParent());
            Cli.Result cr = graft("convert", work, c, outReal.toString());
            Cli.Result cp = graft("convert", clone, c, outPointer.toString());
            assertThat(cr.code()).as(c.model() + ": " + cr.err()).isZero();
            assertThat(cp.code()).as(c.model() + ": " + cp.err()).isZero();
            assertThat(Files.readAllBytes(outPointer)).as(c.model() + ": converted through the pointer").isEqualTo(Files.readAllBytes(outReal));
            System.out.println(c.model() + ": inspect and convert equal through the pointer (" + Files.size(outReal) + " B of ONNX)");
        }
        // The external-data file is itself a pointer: both objects were read and checked.
        assertThat(isPointer(clone.resolve("onnx/ext.onnx.data"))).isTrue();
        Cli.Result r = graft("inspect", clone, CASES.get(1));
        assertThat(r.err()).contains("for '" + clone.resolve("onnx/ext.onnx.data") + "' (not checked out)");
    }

    @Test
    void validateReadsThroughAPointer() {
        // the pointer path against the real file (ONNX Runtime on both): the same bytes, so max abs 0
        for (Case c : List.of(CASES.get(0), CASES.get(2))) {
            Cli.Result r = Cli.run("validate", clone.resolve(c.model()).toString(), work.resolve(c.model()).toString(), "--atol", "0", "--rtol", "0");
            assertThat(r.code()).as(c.model() + ": " + r.out() + r.err()).isZero();
            assertThat(r.out()).contains("PASS");
            assertThat(r.err()).contains("reading LFS object");
        }
        // one model: ONNX Runtime against graft's reference executor, on the pointer path
        Cli.Result one = Cli.run("validate", clone.resolve("onnx/m.onnx").toString());
        assertThat(one.code()).as(one.out() + one.err()).isZero();
        assertThat(one.out()).contains("PASS");
    }

    @Test
    void noLfsKeepsTheRefusal() {
        Cli.Result r = Cli.run("inspect", "--no-lfs", clone.resolve("onnx/m.onnx").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err().strip()).doesNotContain("\n").contains("is a Git LFS pointer (oid sha256:").contains("not the model: run git lfs pull")
                .doesNotContain("notice");
    }

    @Test
    void aMissingObjectIsRefusedWithThePullHint() throws Exception {
        Path c = git.pointerClone(scratch, "clone-missing");
        Path obj = object(c, "onnx/m.onnx");
        Files.delete(obj);
        Cli.Result r = Cli.run("inspect", c.resolve("onnx/m.onnx").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("\tat ").contains("is not in the local LFS store")
                .endsWith("run git lfs pull --include=onnx/m.onnx");
        // a caffemodel beside its prototxt
        Files.delete(object(c, "caffe/lenet.caffemodel"));
        Cli.Result w = graft("inspect", c, CASES.get(6));
        assertThat(w.code()).isEqualTo(3);
        assertThat(w.err()).contains("run git lfs pull --include=caffe/lenet.caffemodel");
    }

    @Test
    void aCorruptObjectIsRefusedNamingTheSha256Mismatch() throws Exception {
        Path c = git.pointerClone(scratch, "clone-corrupt");
        for (String model : List.of("onnx/m.onnx", "keras/cnn.h5", "onnx/ext.onnx.data")) {
            Path obj = object(c, model);
            // git lfs fetch from a local remote hard-links the object: write a new file over it, not into it
            byte[] b = Files.readAllBytes(obj);
            b[b.length / 2] ^= 0x01;
            Path flipped = obj.resolveSibling("flipped.tmp");
            Files.write(flipped, b);
            Files.move(flipped, obj, StandardCopyOption.REPLACE_EXISTING);
            Path open = model.endsWith(".data") ? c.resolve("onnx/ext.onnx") : c.resolve(model);
            Cli.Result r = Cli.run("convert", open.toString(), scratch.resolve("corrupt.onnx").toString());
            assertThat(r.code()).as(model).isEqualTo(3);
            // ext.onnx itself is read through (its notice line), then its external data is refused
            String err = model.endsWith(".data") ? r.err().strip().substring(r.err().strip().lastIndexOf('\n') + 1) : r.err().strip();
            assertThat(err).as(model).doesNotContain("\n").contains("'" + c.resolve(model) + "'").contains("fails its SHA-256 check")
                    .contains("the pointer says sha256:" + obj.getFileName()).endsWith("run git lfs pull --include=" + model);
            assertThat(scratch.resolve("corrupt.onnx")).doesNotExist();
        }
    }

    @Test
    void theStoreIsFoundFromALinkedWorktreeAndThroughGitDir() throws Exception {
        Path wt = scratch.resolve("linked");
        git.git(clone, "worktree", "add", "-q", wt.toString());
        assertThat(isPointer(wt.resolve("onnx/m.onnx"))).isTrue();
        assertThat(wt.resolve(".git")).isRegularFile();
        Cli.Result r = Cli.run("inspect", "--json", wt.resolve("onnx/m.onnx").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(graft("inspect", work, CASES.get(0), "--json").out());
        assertThat(r.err()).contains("reading LFS object " + clone.resolve(".git/lfs/objects"));

        // a pointer outside any repository: found only through GIT_DIR (a forked graft, for its environment)
        Path loose = Files.createTempDirectory("graft-lfs-loose"); // outside the checkout, which is a repository itself
        Files.copy(clone.resolve("onnx/m.onnx"), loose.resolve("m.onnx"), StandardCopyOption.REPLACE_EXISTING);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "graft.cli.Main", "inspect", "--json", "m.onnx");
        Git.Out without = git.exec(loose, Map.of(), cmd);
        assertThat(without.code()).isEqualTo(3);
        assertThat(without.err()).contains("outside any git repository");
        Git.Out with = git.exec(loose, Map.of("GIT_DIR", clone.resolve(".git").toString()), cmd);
        assertThat(with.code()).as(with.err()).isZero();
        assertThat(with.out()).isEqualTo(graft("inspect", work, CASES.get(0), "--json").out());
        Files.delete(loose.resolve("m.onnx"));
        Files.delete(loose);
    }

    /** The object of {@code model} (a pointer in {@code repo}) in {@code repo}'s local store. */
    private static Path object(Path repo, String model) throws Exception {
        String oid = Files.readString(repo.resolve(model)).lines().filter(l -> l.startsWith("oid sha256:")).findFirst().orElseThrow()
                .substring("oid sha256:".length());
        Path p = repo.resolve(".git/lfs/objects").resolve(oid.substring(0, 2)).resolve(oid.substring(2, 4)).resolve(oid);
        assertThat(p).isRegularFile();
        return p;
    }
}
